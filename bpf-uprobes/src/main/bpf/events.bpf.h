/* SPDX-License-Identifier: Apache-2.0 */
/* The shared span ring buffer, for the families that emit spans (see events.h). */
#ifndef JEB_EVENTS_BPF_H
#define JEB_EVENTS_BPF_H

#include <stdbool.h>

#include "events.h"
#include "common.bpf.h"

/* Java makes every object's `events` the one ring it reads (bpf_map__reuse_fd before load). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EVENTS_DEFAULT_BYTES);
} events SEC(".maps");

/* Whether an event that lasted duration_ns becomes a span, given the family's threshold. */
static __always_inline bool span_wanted(__u64 min_ns, __u64 duration_ns)
{
	return min_ns != SPANS_OFF && duration_ns >= min_ns;
}

/*
 * Room for a record of `size` bytes (a constant) with its header filled; 0 when the ring is full,
 * which is counted as a dropped event of the program. The caller fills the rest and submits with
 * span_submit.
 */
static __always_inline void *span_reserve(__u64 size, __u16 source, __u16 kind, __u64 start_ns, __u64 end_ns,
					  struct probe_stats *stats)
{
	struct event_header *h = bpf_ringbuf_reserve(&events, size, 0);

	if (!h) {
		stat_dropped(stats);
		return 0;
	}
	h->start_ns = start_ns;
	h->end_ns = end_ns;
	h->tid = (__u32)bpf_get_current_pid_tgid();
	h->source = source;
	h->kind = kind;
	return h;
}

/*
 * Hands a reserved record to the reader and counts it. The reader is not woken for it: a wake-up
 * from inside a probe lets the reader's thread take the CPU from the thread that hit the probe
 * (a GC's VM thread, in the middle of the pause) as soon as it returns to user space. The reader
 * looks every EVENTS_READ_MILLIS instead; only a ring more than half full wakes it at once, so
 * that bursts are read before the ring overflows.
 */
static __always_inline void span_submit(void *record, struct probe_stats *stats)
{
	__u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	bpf_ringbuf_submit(record, pending > size / 2 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	if (stats)
		add_atomic(&stats->spans, 1);
}

#endif /* JEB_EVENTS_BPF_H */
