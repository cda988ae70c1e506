/* SPDX-License-Identifier: Apache-2.0 */
/* The shared span ring buffer, for the families that emit spans (see events.h). */
#ifndef JEB_EVENTS_BPF_H
#define JEB_EVENTS_BPF_H

#include <stdbool.h>
#include <bpf/bpf_core_read.h>

#include "events.h"
#include "common.bpf.h"

/* Java makes every object's `events` the one ring it reads (bpf_map__reuse_fd before load). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EVENTS_DEFAULT_BYTES);
} events SEC(".maps");

/* Java makes every object's `thread_ctx` the one it writes (see struct thread_ctx_location). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct thread_ctx_location);
} thread_ctx SEC(".maps");

/* The one kernel field read here, relocated against the running kernel's BTF (CO-RE). */
struct thread_struct___events {
	unsigned long fsbase;
} __attribute__((preserve_access_index));

struct task_struct___events {
	struct thread_struct___events thread;
} __attribute__((preserve_access_index));

/* glibc's marker of a dynamic thread vector slot whose TLS block was never allocated. */
#define TLS_DTV_UNALLOCATED (~0ULL)

/*
 * The current thread's OTEP 4947 record into *parent (valid 0 when there is none), read on the
 * thread's own behalf while it is stopped in our probe, as the OTEP asks. x86-64 glibc: static
 * TLS lies at fixed offsets below the thread pointer (%fs base). Dynamic TLS: the thread pointer
 * points at the TCB, whose second word is the dynamic thread vector; slot -1 holds its length,
 * slot `module` the address of that module's TLS block for this thread, or TLS_DTV_UNALLOCATED
 * while the thread never touched it. The variable there is the pointer to the record (NULL: no
 * context). Only user memory of our own process is read, each read fault-safe; slow or rare
 * events only, so its cost is no concern.
 */
static __always_inline void span_parent_read(struct span_parent *parent)
{
	struct task_struct___events *task = (void *)bpf_get_current_task();
	struct thread_ctx_location *where;
	struct thread_ctx_record record;
	__u64 tp, dtv, slots, block, variable, address;
	__u32 zero = 0;

	__builtin_memset(parent, 0, sizeof(*parent));
	where = bpf_map_lookup_elem(&thread_ctx, &zero);
	if (!where || !where->module)
		return;
	tp = BPF_CORE_READ(task, thread.fsbase);
	if (!tp)
		return;
	if (where->tp_offset) {
		variable = tp - where->tp_offset;
	} else {
		if (bpf_probe_read_user(&dtv, sizeof(dtv), (const void *)(tp + 8)) || !dtv)
			return;
		if (bpf_probe_read_user(&slots, sizeof(slots), (const void *)(dtv - 16)) || where->module > slots)
			return;
		if (bpf_probe_read_user(&block, sizeof(block), (const void *)(dtv + 16 * where->module))
		    || !block || block == TLS_DTV_UNALLOCATED)
			return;
		variable = block + where->offset;
	}
	if (bpf_probe_read_user(&address, sizeof(address), (const void *)variable) || !address)
		return;
	if (bpf_probe_read_user(&record, sizeof(record), (const void *)address) || record.valid != 1)
		return;
	__builtin_memcpy(parent->trace_id, record.trace_id, sizeof(parent->trace_id));
	__builtin_memcpy(parent->span_id, record.span_id, sizeof(parent->span_id));
	parent->trace_flags = record.trace_flags;
	parent->valid = 1;
}

/* Whether an event that lasted duration_ns becomes a span, given the family's threshold. */
static __always_inline bool span_wanted(__u64 min_ns, __u64 duration_ns)
{
	return min_ns != SPANS_OFF && duration_ns >= min_ns;
}

/*
 * Room for a record of `size` bytes (a constant) with its header filled; 0 when the ring is full,
 * which is counted as a dropped event of the program. The caller fills the rest and submits with
 * span_submit. with_parent: the event belongs to the calling thread's work (a call it made), so
 * the application span current on the thread becomes its parent; GC and safepoint pauses stop
 * every thread and have none.
 */
static __always_inline void *span_reserve(__u64 size, __u16 source, __u16 kind, __u64 start_ns, __u64 end_ns,
					  bool with_parent, struct probe_stats *stats)
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
	if (with_parent)
		span_parent_read(&h->parent);
	else
		__builtin_memset(&h->parent, 0, sizeof(h->parent));
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
