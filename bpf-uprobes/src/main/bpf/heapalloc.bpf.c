// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* Heap allocation of our own JVM from JFR's AllocTracer hooks. See heapalloc.h. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "heapalloc.h"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct alloc_config config = {};

HIST_BUCKET_SEARCH(size_bucket, config.size_bytes)

/* Sizes of new TLABs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} alloc_tlab_size SEC(".maps");

/* Sizes of allocations outside TLABs, by Klass*; Java sizes it to the class bound + `other`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65);
	__type(key, __u64);
	__type(value, struct hist);
} alloc_outside_size SEC(".maps");

/* Never written: the zeroed value new histogram entries start from. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} alloc_zero SEC(".maps");

/* Bytes by thread (tid). Java removes the entries of threads that have ended. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct alloc_thread);
} alloc_thread_bytes SEC(".maps");

/* Bytes by class (Klass*), bounded like alloc_outside_size. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65);
	__type(key, __u64);
	__type(value, struct alloc_class);
} alloc_class_bytes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ALLOC_PROBE_COUNT);
	__type(key, enum alloc_probe);	/* also keeps the enum in BTF for the layout test */
	__type(value, struct probe_stats);
} heapalloc_stats SEC(".maps");

static __always_inline void record(__u64 klass, __u64 tlab_bytes, __u64 outside_bytes,
				   __u64 java_thread, enum alloc_probe probe)
{
	struct probe_stats *stats = counted(&heapalloc_stats, probe);
	struct alloc_thread fresh_thread = {};
	struct alloc_class fresh_class = {};
	__u64 other_klass = ALLOC_OTHER_KLASS;
	__u32 other_tid = ALLOC_OTHER_THREAD;
	bool overflowed = false, dropped = false;
	struct alloc_thread *thread;
	struct alloc_class *cls;
	__u32 zero_key = 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct hist *h;

	thread = bpf_map_lookup_elem(&alloc_thread_bytes, &tid);
	if (!thread) {
		bpf_get_current_comm(fresh_thread.comm, sizeof(fresh_thread.comm));
		thread = map_get_or_other(&alloc_thread_bytes, &tid, &fresh_thread, &other_tid, &overflowed);
	}
	if (thread) {
		/* Atomic: the `other` entry is shared by threads beyond the bound. */
		add_atomic(&thread->tlab_bytes, tlab_bytes);
		add_atomic(&thread->outside_bytes, outside_bytes);
		thread->java_thread = java_thread;
	} else {
		dropped = true;
	}

	cls = map_get_or_other(&alloc_class_bytes, &klass, &fresh_class, &other_klass, &overflowed);
	if (cls) {
		add_atomic(&cls->tlab_bytes, tlab_bytes);
		add_atomic(&cls->outside_bytes, outside_bytes);
		add_atomic(tlab_bytes ? &cls->tlab_count : &cls->outside_count, 1);
	} else {
		dropped = true;
	}

	if (tlab_bytes) {
		h = bpf_map_lookup_elem(&alloc_tlab_size, &zero_key);
		if (h)
			hist_add(h, size_bucket, tlab_bytes);
	} else {
		void *zero = bpf_map_lookup_elem(&alloc_zero, &zero_key);

		h = zero ? map_get_or_other(&alloc_outside_size, &klass, zero, &other_klass, &overflowed) : 0;
		if (h)
			hist_add(h, size_bucket, outside_bytes);
		else
			dropped = true;
	}
	if (overflowed)
		stat_overflow(stats);
	if (dropped)
		stat_dropped(stats);
}

SEC("uprobe")
int BPF_KPROBE(uprobe_alloc_new_tlab, void *klass, void *obj, __u64 tlab_bytes, __u64 alloc_bytes,
	       void *java_thread)
{
	if (!is_our_process(&config.process))
		return 0;
	record((__u64)klass, tlab_bytes, 0, (__u64)java_thread, ALLOC_PROBE_NEW_TLAB);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_alloc_outside_tlab, void *klass, void *obj, __u64 alloc_bytes, void *java_thread)
{
	if (!is_our_process(&config.process))
		return 0;
	record((__u64)klass, 0, alloc_bytes, (__u64)java_thread, ALLOC_PROBE_OUTSIDE_TLAB);
	return 0;
}
