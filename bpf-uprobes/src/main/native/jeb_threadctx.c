// SPDX-License-Identifier: Apache-2.0
// Our writer's OpenTelemetry Thread Context pointer (OTEP 4947), in a library of its own:
// libjeb-threadctx.so, which the shim loads RTLD_LOCAL. Exported in .dynsym for readers (ours in
// the kernel, a profiler's) and built with -mtls-dialect=gnu2 (TLSDESC, as the OTEP recommends),
// yet never in the process's global symbol scope: a writer library the application loads later,
// which exports the same name, keeps its references bound to its own variable instead of ours.
// -Bsymbolic binds our own references to ours whatever was loaded before.

__attribute__((visibility("default"))) __thread void *otel_thread_ctx_v1;

/* Points the calling thread's otel_thread_ctx_v1 at record (NULL: none). */
__attribute__((visibility("default"))) void jeb_thread_ctx_bind(void *record)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	*(void *volatile *)&otel_thread_ctx_v1 = record;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* The calling thread's otel_thread_ctx_v1. */
__attribute__((visibility("default"))) void *jeb_thread_ctx_current(void)
{
	return *(void *volatile *)&otel_thread_ctx_v1;
}
