/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel-side helpers shared by every probe family. Records shared with Java are in hist.h. */
#ifndef JEB_COMMON_BPF_H
#define JEB_COMMON_BPF_H

#include <stdbool.h>

#include "hist.h"

/* Bound on max_atomic's and min_nonzero_atomic's exchange rounds (see there). */
#define HIST_CAS_ROUNDS 16

/*
 * Always 0: hist_bucket's starting position. Nothing writes it, but it lives in writable data,
 * so the verifier cannot know its value (see hist_bucket).
 */
volatile __u32 hist_search_origin;

/*
 * Index of the bucket holding v (v > 0): the first i with v <= upper[i], found as the number of
 * entries below v. Each step adds half of the remaining span when the entry at its end is below
 * v; the table's padding (UINT64_MAX) is never below v, so the result is at most bucket_count - 1.
 *
 * Written for the verifier's sake, which pays at every start of the agent. A position it knows
 * (a constant on each path) would be marked precise where it indexes the table, and then every
 * path of the search is followed on its own: about 4,000 to 10,000 instructions and 5 to 13 ms of
 * CPU per search function. Here the position starts from a value the verifier cannot know, and
 * each step keeps it within the table by a mask (a no-op at run time: the steps add up to 511),
 * so on both sides of every comparison it is the same range and the two paths merge.
 */
static __always_inline __u32 hist_bucket(const volatile struct hist_layout *layout, __u64 v)
{
	__u32 pos = hist_search_origin & (HIST_LAYOUT_ENTRIES - 1);

#pragma unroll
	for (__u32 step = HIST_LAYOUT_ENTRIES / 2; step > 0; step >>= 1) {
		if (layout->upper[(pos + step - 1) & (HIST_LAYOUT_ENTRIES - 1)] < v)
			pos = (pos + step) & (HIST_LAYOUT_ENTRIES - 1);
	}
	return pos;
}

/*
 * Defines name(v), a global function returning v's bucket in the table layout (an lvalue in
 * .rodata, such as config.duration_ns). Global functions (not static, not inlined) are verified
 * once, on their own, instead of again at every call site of every program: the search's paths
 * and hist_count's exchange loops, followed at each of a program's call sites, were most of the
 * verifier's work (about 147,000 instructions processed for the socket return program, 40,000
 * for each allocation program), which every start of the agent paid in CPU time.
 */
#define HIST_BUCKET_SEARCH(name, layout)		\
	__noinline __u32 name(__u64 v)			\
	{						\
		return hist_bucket(&(layout), v);	\
	}

/*
 * Every update of a value that a map shares is an atomic read-modify-write (BPF_ATOMIC), so
 * nothing is lost when two CPUs count into one value, nor when a program is preempted between
 * its load and its store (uprobe programs run with migration disabled, not preemption: on
 * kernels booted preempt=full, lazy or RT another task may run the same program on the same
 * CPU in between). Values keyed by one thread's tid are written by that thread only and need
 * no atomics: a thread cannot interleave with itself.
 */
static __always_inline void add_atomic(__u64 *p, __u64 v)
{
	__sync_fetch_and_add(p, v);
}

/*
 * Raises *p to v unless it holds more already. Each failed exchange means another CPU stored a
 * larger value in between (the value only grows), so the loop ends after as many rounds as
 * there are writers racing with larger values; HIST_CAS_ROUNDS bounds it for the verifier.
 */
static __always_inline void max_atomic(__u64 *p, __u64 v)
{
	__u64 seen = *(volatile __u64 *)p;

	for (int round = 0; round < HIST_CAS_ROUNDS && v > seen; round++) {
		__u64 was = __sync_val_compare_and_swap(p, seen, v);

		if (was == seen)
			return;
		seen = was;
	}
}

/* Lowers *p to v (v > 0) unless it holds less already; 0 in *p means "none yet". */
static __always_inline void min_nonzero_atomic(__u64 *p, __u64 v)
{
	__u64 seen = *(volatile __u64 *)p;

	for (int round = 0; round < HIST_CAS_ROUNDS && (seen == 0 || v < seen); round++) {
		__u64 was = __sync_val_compare_and_swap(p, seen, v);

		if (was == seen)
			return;
		seen = was;
	}
}

/*
 * Counts v (its bucket b, unused when v is 0) into h: one atomic add for the bucket, one for
 * the sum, and an exchange for min or max only when v is a new extreme (see hist.h). Global (see
 * HIST_BUCKET_SEARCH), so the verifier treats h as possibly NULL.
 */
__noinline int hist_count(struct hist *h, __u64 v, __u32 b)
{
	if (!h)
		return 0;
	if (v == 0) {
		add_atomic(&h->zero_count, 1);
	} else {
		if (b < HIST_MAX_BUCKETS)
			add_atomic(&h->buckets[b], 1);
		min_nonzero_atomic(&h->min, v);
		max_atomic(&h->max, v);
		add_atomic(&h->sum, v);
	}
	return 0;
}

/* Counts v into h, its bucket found by bucket_of (a HIST_BUCKET_SEARCH function). */
#define hist_add(h, bucket_of, v)						\
	({									\
		__u64 __hist_v = (v);						\
		hist_count((h), __hist_v, __hist_v ? bucket_of(__hist_v) : 0);	\
	})

/* Whether bucket b of layout holds v (v > 0). */
static __always_inline bool hist_in_bucket(const volatile struct hist_layout *layout, __u64 v, __u32 b)
{
	return b < HIST_MAX_BUCKETS && b < layout->bucket_count && v <= layout->upper[b]
	       && (b == 0 || v > layout->upper[b - 1]);
}

/*
 * hist_bucket for values that repeat: *guess is a bucket the caller keeps (the previous value's).
 * When v falls in it no search is needed; otherwise v's bucket is searched and becomes *guess.
 */
static __always_inline __u32 hist_bucket_near(const volatile struct hist_layout *layout, __u64 v,
					      __u32 *guess)
{
	__u32 b = *guess;

	if (hist_in_bucket(layout, v, b))
		return b;
	b = hist_bucket(layout, v);
	*guess = b;
	return b;
}

/* hist_add with hist_bucket_near's guess; bucket_of is the HIST_BUCKET_SEARCH function of layout. */
#define hist_add_near(h, layout, bucket_of, v, guess)			\
	({								\
		__u64 __hist_v = (v);					\
		__u32 *__hist_guess = (guess);				\
		__u32 __hist_b = 0;					\
		if (__hist_v) {						\
			__hist_b = *__hist_guess;			\
			if (!hist_in_bucket((layout), __hist_v, __hist_b)) {	\
				__hist_b = bucket_of(__hist_v);		\
				*__hist_guess = __hist_b;		\
			}						\
		}							\
		hist_count((h), __hist_v, __hist_b);			\
	})

/* The inode number of the initial pid namespace (the kernel's PROC_PID_INIT_INO), fixed. */
#define PID_NS_INIT_INO 0xEFFFFFFCULL

/* True when the current task belongs to the JVM we observe (its pid namespace, its tgid). */
static __always_inline int is_our_process(const volatile struct process_filter *filter)
{
	struct bpf_pidns_info ns = {};

	/* Outside containers the JVM's pid is the kernel's tgid: no namespace lookup needed. */
	if (filter->pidns_ino == PID_NS_INIT_INO)
		return (bpf_get_current_pid_tgid() >> 32) == filter->tgid;
	if (bpf_get_ns_current_pid_tgid(filter->pidns_dev, filter->pidns_ino, &ns, sizeof(ns)))
		return 0;
	return ns.tgid == filter->tgid;
}

/*
 * The current thread's id as the observed JVM's pid namespace numbers it: what gettid() returns
 * there and /proc/self/task lists (the kernel's own tid differs inside a container); 0 when the
 * thread is not in that namespace.
 */
static __always_inline __u32 current_tid(const volatile struct process_filter *filter)
{
	struct bpf_pidns_info ns = {};

	if (filter->pidns_ino == PID_NS_INIT_INO)
		return (__u32)bpf_get_current_pid_tgid();
	if (bpf_get_ns_current_pid_tgid(filter->pidns_dev, filter->pidns_ino, &ns, sizeof(ns)))
		return 0;
	return ns.pid;
}

/*
 * Self-telemetry. stats_map is the family's per-CPU probe_stats array, probe the program's
 * number. Every call site names its map itself (a constant once inlined): the verifier inlines
 * a map lookup only where the call site always sees the same map.
 */
static __always_inline struct probe_stats *probe_stats_of(void *stats_map, __u32 probe)
{
	return bpf_map_lookup_elem(stats_map, &probe);
}

/*
 * One more event of a kind in a program's stats, as looked up by the program (0 when the
 * lookup failed: then nothing). The stats are per-CPU, and still added atomically: see add_atomic.
 */
static __always_inline void stat_dropped(struct probe_stats *stats)
{
	if (stats)
		add_atomic(&stats->dropped, 1);
}

static __always_inline void stat_error(struct probe_stats *stats)
{
	if (stats)
		add_atomic(&stats->errors, 1);
}

static __always_inline void stat_overflow(struct probe_stats *stats)
{
	if (stats)
		add_atomic(&stats->overflow, 1);
}

/* The program ran for our process: counts the event; the probe's stats, 0 if none. */
static __always_inline struct probe_stats *counted(void *stats_map, __u32 probe)
{
	struct probe_stats *stats = probe_stats_of(stats_map, probe);

	if (stats)
		add_atomic(&stats->events, 1);
	return stats;
}

static __always_inline void count_dropped(void *stats_map, __u32 probe)
{
	stat_dropped(probe_stats_of(stats_map, probe));
}

static __always_inline void count_error(void *stats_map, __u32 probe)
{
	stat_error(probe_stats_of(stats_map, probe));
}

static __always_inline void count_overflow(void *stats_map, __u32 probe)
{
	stat_overflow(probe_stats_of(stats_map, probe));
}

/*
 * The value under *key in a bounded hash map, created from *init on first use (a zeroed value
 * for counters and histograms: a never-written ARRAY entry, or a stack value). The
 * insert fails with EEXIST when another CPU created the entry meanwhile, which the second
 * lookup then finds, and with E2BIG when the map is full: then 0. Like probe_stats_of, every
 * call site names its map itself. Maps used this way are preallocated, so an insert never fails
 * while the map has room: with BPF_F_NO_PREALLOC the kernel takes new entries from a cache that
 * can be empty in a probe's context, and bursts of new series lost events that way.
 */
static __always_inline void *map_get_or_init(void *map, const void *key, const void *init)
{
	void *value = bpf_map_lookup_elem(map, key);

	if (value)
		return value;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/*
 * map_get_or_init for a map with an `other` entry (created by Java): once the map is full,
 * the entry under *other_key, and *overflowed is set.
 */
static __always_inline void *map_get_or_other(void *map, const void *key, const void *init,
					      const void *other_key, bool *overflowed)
{
	void *value = map_get_or_init(map, key, init);

	if (value)
		return value;
	*overflowed = true;
	return bpf_map_lookup_elem(map, other_key);
}

/*
 * The record a begin probe left under *key for its end probe; 0 when there is none (the
 * operation began before the probes attached, or its begin found the map full), which is
 * counted as an error of the end probe. The caller deletes the record once it is done.
 */
static __always_inline void *begun(void *map, const void *key, struct probe_stats *stats)
{
	void *record = bpf_map_lookup_elem(map, key);

	if (!record)
		stat_error(stats);
	return record;
}

#endif /* JEB_COMMON_BPF_H */
