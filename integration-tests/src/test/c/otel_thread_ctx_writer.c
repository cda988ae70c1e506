// SPDX-License-Identifier: Apache-2.0
/*
 * A test-only writer of OpenTelemetry Thread Context (OTEP 4947), written from the OTEP's text and
 * nothing of the agent: the thread-local pointer otel_thread_ctx_v1, exported as an ELF TLS symbol
 * in .dynsym (built with -mtls-dialect=gnu2: TLSDESC, the recommended model), pointing at this
 * thread's record while a context is attached and NULL otherwise. The record is byte-packed: trace
 * id (16), span id (8), valid (1), trace flags (1), attrs-data-size (2), then the attributes.
 *
 * ThreadContextClient (integration tests) calls it through JNI.
 */
#include <jni.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct __attribute__((packed, aligned(8))) context_record {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t valid;
	uint8_t trace_flags;
	uint16_t attrs_data_size;
	uint8_t attrs_data[36];
};

_Static_assert(offsetof(struct context_record, attrs_data) == 28, "the OTEP's 28-byte lead-in");

__attribute__((visibility("default"))) __thread struct context_record *otel_thread_ctx_v1;

static __thread struct context_record record;

/* Attach: detach first, fill the record, mark it valid, then point the thread at it. */
JNIEXPORT void JNICALL Java_dev_jvmebpf_it_workload_ThreadContextClient_publish(JNIEnv *env, jclass type,
										jbyteArray trace_id, jbyteArray span_id,
										jint flags)
{
	(void)type;
	*(struct context_record *volatile *)&otel_thread_ctx_v1 = NULL;
	atomic_signal_fence(memory_order_seq_cst);
	record.valid = 0;
	(*env)->GetByteArrayRegion(env, trace_id, 0, 16, (jbyte *)record.trace_id);
	(*env)->GetByteArrayRegion(env, span_id, 0, 8, (jbyte *)record.span_id);
	record.trace_flags = (uint8_t)flags;
	record.attrs_data_size = 0;
	atomic_signal_fence(memory_order_seq_cst);
	*(volatile uint8_t *)&record.valid = 1;
	atomic_signal_fence(memory_order_seq_cst);
	*(struct context_record *volatile *)&otel_thread_ctx_v1 = &record;
}

/* Detach: no context on this thread. */
JNIEXPORT void JNICALL Java_dev_jvmebpf_it_workload_ThreadContextClient_clear(JNIEnv *env, jclass type)
{
	(void)env;
	(void)type;
	*(struct context_record *volatile *)&otel_thread_ctx_v1 = NULL;
	atomic_signal_fence(memory_order_seq_cst);
}
