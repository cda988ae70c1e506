/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Span events: the records that families put into the one ring buffer they share (map `events`
 * in each object, all reusing the descriptor of one ring that Java creates), shared with the
 * Java side (EventStructs, EventRing). Only slow or rare events travel: each family compares an
 * event's duration with its config's span_min_ns in the kernel, so fast calls never reach the
 * ring. A full ring drops the event there and counts it (probe_stats.dropped); nothing waits.
 *
 * Every record begins with struct event_header; `source` says which family's record follows.
 * Times are bpf_ktime_get_ns(), CLOCK_MONOTONIC, which Java converts to epoch time.
 *
 * Spans of calls a thread makes (socket, DNS) carry the application span that was current on
 * that thread: the lead-in of its OpenTelemetry thread context record (OTEP 4947), found through
 * the thread-local pointer `otel_thread_ctx_v1` that some library of the process exports (ours or
 * another writer's). Java finds that library and tells the programs where the pointer lives
 * (struct thread_ctx_location, map `thread_ctx`, shared like the ring).
 */
#ifndef JEB_EVENTS_H
#define JEB_EVENTS_H

#include <linux/types.h>

/* span_min_ns meaning "no spans" (0 means every event). */
#define SPANS_OFF (~0ULL)

/* The ring's size when Java gives none (the families' own, unused: Java always shares one). */
#define EVENTS_DEFAULT_BYTES 4096

/* How often the reader looks at the ring when nothing woke it (see span_submit). */
#define EVENTS_READ_MILLIS 200

/* Which family wrote a record. */
enum event_source {
	EVENT_SOURCE_GC = 1,
	EVENT_SOURCE_SAFEPOINT = 2,
	EVENT_SOURCE_SOCKET = 3,
	EVENT_SOURCE_DNS = 4,
};

/*
 * Where the current thread's `otel_thread_ctx_v1` is. When the library's TLS is static (loaded at
 * start, or placed in glibc's static TLS reserve, as TLSDESC libraries loaded later usually
 * are), at the thread pointer minus tp_offset in every thread. Otherwise (tp_offset 0) in the
 * module's dynamically allocated block: glibc's TLS module id of the library (its slot in the
 * thread's dynamic thread vector) and the symbol's offset in that block. module 0: no library
 * exports it (yet).
 */
struct thread_ctx_location {
	__u64 module;
	__u64 offset;
	__u64 tp_offset;
};

/* The first fields of an OTEP 4947 thread context record, as the writer laid them out. */
struct thread_ctx_record {
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 valid;		/* 1: the record is complete; anything else: ignore it */
	__u8 trace_flags;
	__u16 attrs_data_size;
};
_Static_assert(sizeof(struct thread_ctx_record) == 28, "the OTEP's 28-byte lead-in");

/* The application span current on the event's thread, when the family reads it. */
struct span_parent {
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 trace_flags;
	__u8 valid;		/* 1: the fields above come from a valid record; 0: no parent */
	__u8 pad[6];
};
_Static_assert(sizeof(struct span_parent) == 32, "span_parent padding");

struct event_header {
	__u64 start_ns;		/* bpf_ktime_get_ns() at the event's begin */
	__u64 end_ns;		/* and at its end */
	__u32 tid;		/* the thread, as the kernel numbers it */
	__u16 source;		/* enum event_source */
	__u16 kind;		/* the family's own kind of event */
	struct span_parent parent;
};
_Static_assert(sizeof(struct event_header) == 56, "event_header padding");

#endif /* JEB_EVENTS_H */
