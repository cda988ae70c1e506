// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* Heap allocation of our own JVM from JFR's AllocTracer hooks. See heapalloc.h. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

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

/*
 * Live threads, by tid (struct alloc_thread). An entry goes when its thread ends (thread__stop);
 * Java removes those of threads that ended without that probe (a thread attached through JNI).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct alloc_thread);
} alloc_threads SEC(".maps");

/* Bytes of threads that ended, by name; Java sizes it to the name bound + `other` (all zeros). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65);
	__type(key, struct alloc_thread_name);
	__type(value, struct alloc_ended);
} alloc_ended_bytes SEC(".maps");

/*
 * Threads seen ending, by tid, with their JavaThread* (0: any): what HotSpot allocates for a
 * thread after its run() returned (java.lang.Thread's own exit()) is not counted, rather than
 * opening an entry that no thread__stop would ever close. thread__start forgets a reused tid.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} alloc_ended_tids SEC(".maps");

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
	__type(key, __u32);
	__type(value, struct probe_stats);
} heapalloc_stats SEC(".maps");

/*
 * Keeps enum alloc_probe in the object's BTF for the layout test. Not the map's key type: the kernel
 * takes an array map's BTF only with an integer key, and libbpf created the map again without it.
 */
const volatile enum alloc_probe alloc_probe_btf = 0;

/*
 * HotSpot's count of the bytes the thread at java_thread allocated, as ThreadMXBean reports it
 * (see heapalloc.h), into *out; false when unknown or unreadable. Read on that thread itself,
 * stopped in our probe, so its TLAB cannot change meanwhile.
 */
static __always_inline bool thread_allocated(__u64 java_thread, __u64 *out)
{
	__u64 allocated, start, top;

	if (!config.allocated_bytes_offset || !java_thread)
		return false;
	if (bpf_probe_read_user(&allocated, sizeof(allocated), (const void *)(java_thread + config.allocated_bytes_offset))
	    || bpf_probe_read_user(&start, sizeof(start), (const void *)(java_thread + config.tlab_start_offset))
	    || bpf_probe_read_user(&top, sizeof(top), (const void *)(java_thread + config.tlab_top_offset)))
		return false;
	/* A retired TLAB has start = top = NULL. */
	*out = allocated + (top > start ? top - start : 0);
	return true;
}

/* Counts bytes for the class at klass (or `other`); atomic, the entry is shared. */
static __always_inline void count_class(__u64 klass, __u64 tlab_bytes, __u64 outside_bytes, __u64 tlabs,
					__u64 outsides, struct probe_stats *stats)
{
	struct alloc_class fresh = {};
	__u64 other_klass = ALLOC_OTHER_KLASS;
	bool overflowed = false;
	struct alloc_class *cls;

	cls = map_get_or_other(&alloc_class_bytes, &klass, &fresh, &other_klass, &overflowed);
	if (overflowed)
		stat_overflow(stats);
	if (!cls) {
		stat_dropped(stats);
		return;
	}
	if (tlab_bytes)
		add_atomic(&cls->tlab_bytes, tlab_bytes);
	if (outside_bytes)
		add_atomic(&cls->outside_bytes, outside_bytes);
	if (tlabs)
		add_atomic(&cls->tlab_count, tlabs);
	if (outsides)
		add_atomic(&cls->outside_count, outsides);
}

/* Adds bytes (of threads ended) under the name *key, or `other`; atomic, the entry is shared. */
static __always_inline void count_ended(const struct alloc_thread_name *key, __u64 bytes, __u64 threads,
					struct probe_stats *stats)
{
	struct alloc_thread_name other = {};
	struct alloc_ended fresh = {};
	bool overflowed = false;
	struct alloc_ended *ended;

	ended = map_get_or_other(&alloc_ended_bytes, key, &fresh, &other, &overflowed);
	if (overflowed)
		stat_overflow(stats);
	if (!ended) {
		stat_dropped(stats);
		return;
	}
	add_atomic(&ended->bytes, bytes);
	if (threads)
		add_atomic(&ended->threads, threads);
}

/*
 * One hook: tlab_bytes is the new TLAB's size (0 for an allocation outside TLABs), alloc_bytes
 * the object's size. The thread's entry advances to HotSpot's count now; what the thread used
 * of its TLAB since its last hook counts for the class that opened that TLAB, the object for
 * its own class. A new entry starts at the count before this object, so a thread that began
 * before the probes counts from its first hook, one that began after from its first object.
 */
static __always_inline void record(__u64 klass, __u64 tlab_bytes, __u64 alloc_bytes, __u64 java_thread,
				   enum alloc_probe probe)
{
	struct probe_stats *stats = counted(&heapalloc_stats, probe);
	struct alloc_thread fresh = {};
	struct alloc_thread *thread = 0;
	__u32 tid = current_tid(&config.process);
	__u64 now = 0, before, *ended;
	bool exact, new_tlab = tlab_bytes != 0;
	__u64 other_klass = ALLOC_OTHER_KLASS;
	bool overflowed = false;
	__u32 zero_key = 0;
	struct hist *h;

	if (new_tlab) {
		h = bpf_map_lookup_elem(&alloc_tlab_size, &zero_key);
		if (h)
			hist_add(h, size_bucket, tlab_bytes);
	} else {
		void *zero = bpf_map_lookup_elem(&alloc_zero, &zero_key);

		h = zero ? map_get_or_other(&alloc_outside_size, &klass, zero, &other_klass, &overflowed) : 0;
		if (h)
			hist_add(h, size_bucket, alloc_bytes);
		else
			stat_dropped(stats);
		if (overflowed)
			stat_overflow(stats);
	}

	exact = thread_allocated(java_thread, &now);
	if (config.allocated_bytes_offset && !exact)
		stat_error(stats);
	if (tid)
		thread = bpf_map_lookup_elem(&alloc_threads, &tid);
	if (thread && thread->java_thread != java_thread) {
		/* An entry left under this tid by a thread that ended unseen: its count is not this one's. */
		bpf_map_delete_elem(&alloc_threads, &tid);
		thread = 0;
		stat_error(stats);
	}
	if (!thread && tid) {
		ended = bpf_map_lookup_elem(&alloc_ended_tids, &tid);
		if (ended && (*ended == 0 || *ended == java_thread))
			return;	/* the thread has ended: Thread.exit()'s own allocation */
		fresh.base_bytes = exact ? now - alloc_bytes : 0;
		fresh.seen_bytes = fresh.base_bytes;
		fresh.java_thread = java_thread;
		fresh.tlab_klass = klass;
		bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
		thread = map_get_or_init(&alloc_threads, &tid, &fresh);
	}
	if (!thread) {
		/* No room for another live thread: its hook counts under `other`, the old way (whole TLABs). */
		struct alloc_thread_name other = {};

		stat_overflow(stats);
		count_ended(&other, new_tlab ? tlab_bytes : alloc_bytes, 0, stats);
		count_class(klass, tlab_bytes, new_tlab ? 0 : alloc_bytes, new_tlab, !new_tlab, stats);
		return;
	}

	if (exact) {
		before = now - alloc_bytes;
	} else {
		before = thread->seen_bytes;
		now = before + (new_tlab ? tlab_bytes : alloc_bytes);
	}
	if (before > thread->seen_bytes)
		count_class(thread->tlab_klass, before - thread->seen_bytes, 0, 0, 0, stats);
	count_class(klass, new_tlab ? now - before : 0, new_tlab ? 0 : alloc_bytes, new_tlab, !new_tlab, stats);
	if (now > thread->seen_bytes)
		thread->seen_bytes = now;
	if (new_tlab)
		thread->tlab_klass = klass;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_alloc_new_tlab, void *klass, void *obj, __u64 tlab_bytes, __u64 alloc_bytes,
	       void *java_thread)
{
	if (!is_our_process(&config.process))
		return 0;
	record((__u64)klass, tlab_bytes, alloc_bytes, (__u64)java_thread, ALLOC_PROBE_NEW_TLAB);
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

/* A Java thread starts, on itself, before it allocates: a tid seen ending earlier is another thread's. */
SEC("usdt")
int BPF_USDT(usdt_thread_start)
{
	__u32 tid;

	if (!is_our_process(&config.process))
		return 0;
	counted(&heapalloc_stats, ALLOC_PROBE_THREAD_START);
	tid = current_tid(&config.process);
	if (tid)
		bpf_map_delete_elem(&alloc_ended_tids, &tid);
	return 0;
}

/*
 * A Java thread's run() returned (HotSpot's thread__stop, on the thread itself: name, its
 * length, ...): its final count goes to its name's total and its entry goes. The entry is
 * deleted before the total grows, so that user space, which reads the totals before the
 * entries, never counts a thread twice (at worst it misses one for that read).
 */
SEC("usdt")
int BPF_USDT(usdt_thread_stop, const char *name, long name_len)
{
	struct alloc_thread_name key = {};
	struct probe_stats *stats;
	struct alloc_thread *live;
	struct alloc_thread thread;
	__u64 now, java_thread = 0;
	__u32 tid;

	if (!is_our_process(&config.process))
		return 0;
	stats = counted(&heapalloc_stats, ALLOC_PROBE_THREAD_STOP);
	tid = current_tid(&config.process);
	if (!tid) {
		stat_error(stats);
		return 0;
	}
	live = bpf_map_lookup_elem(&alloc_threads, &tid);
	if (live) {
		thread = *live;
		java_thread = thread.java_thread;
		bpf_map_delete_elem(&alloc_threads, &tid);
		if (thread_allocated(thread.java_thread, &now) && now > thread.seen_bytes) {
			count_class(thread.tlab_klass, now - thread.seen_bytes, 0, 0, 0, stats);
			thread.seen_bytes = now;
		}
		/*
		 * A C string, name_len bytes long (the USDT contract): the read stops at its NUL or
		 * at name_len, whichever comes first, and leaves the rest of the key zero. One read
		 * of bounded size: a loop zeroing the bytes past name_len cost the verifier about
		 * 18,000 instructions, 25 ms of CPU at every start.
		 */
		if (name_len > 0) {
			/* The name's bytes plus its NUL, within the key: bounded on the register passed. */
			__u64 size = (__u64)name_len + 1;

			barrier_var(size);
			if (size > ALLOC_THREAD_NAME_LEN)
				size = ALLOC_THREAD_NAME_LEN;
			if (bpf_probe_read_user_str(key.text, size, name) <= 0)
				__builtin_memset(&key, 0, sizeof(key));
		}
		count_ended(&key, thread.seen_bytes - thread.base_bytes, 1, stats);
	}
	bpf_map_update_elem(&alloc_ended_tids, &tid, &java_thread, BPF_ANY);
	return 0;
}
