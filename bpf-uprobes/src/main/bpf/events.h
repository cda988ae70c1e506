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

struct event_header {
	__u64 start_ns;		/* bpf_ktime_get_ns() at the event's begin */
	__u64 end_ns;		/* and at its end */
	__u32 tid;		/* the thread, as the kernel numbers it */
	__u16 source;		/* enum event_source */
	__u16 kind;		/* the family's own kind of event */
};
_Static_assert(sizeof(struct event_header) == 24, "event_header padding");

#endif /* JEB_EVENTS_H */
