/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel-side helpers shared by every probe family. Records shared with Java are in hist.h. */
#ifndef JEB_COMMON_BPF_H
#define JEB_COMMON_BPF_H

#include <stdbool.h>

#include "hist.h"

/* Index of the bucket holding v (v > 0): the first i with v <= upper[i]. */
static __always_inline __u32 hist_bucket(const volatile struct hist_layout *layout, __u64 v)
{
	__u32 lo = 0, hi = layout->bucket_count;

	if (hi > HIST_MAX_BUCKETS)
		hi = HIST_MAX_BUCKETS;
	if (hi == 0)
		return 0;
	hi -= 1;
	for (int step = 0; step < HIST_SEARCH_STEPS; step++) {
		__u32 mid;

		if (lo >= hi)
			break;
		mid = (lo + hi) >> 1;
		if (mid >= HIST_MAX_BUCKETS)
			break;
		if (v <= layout->upper[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Counts v (its bucket b, unused when v is 0) into h. */
static __always_inline void hist_count(struct hist *h, __u64 v, __u32 b)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->sum += v;
	if (v == 0)
		h->zero_count++;
	else if (b < HIST_MAX_BUCKETS)
		h->buckets[b]++;
	h->count++;
}

static __always_inline void hist_add(struct hist *h, const volatile struct hist_layout *layout,
				     __u64 v)
{
	hist_count(h, v, v ? hist_bucket(layout, v) : 0);
}

/*
 * hist_bucket for values that repeat: *guess is a bucket the caller keeps (the previous value's).
 * When v falls in it no search is needed; otherwise v's bucket is searched and becomes *guess.
 */
static __always_inline __u32 hist_bucket_near(const volatile struct hist_layout *layout, __u64 v,
					      __u32 *guess)
{
	__u32 b = *guess;

	if (b < HIST_MAX_BUCKETS && b < layout->bucket_count && v <= layout->upper[b]
	    && (b == 0 || v > layout->upper[b - 1]))
		return b;
	b = hist_bucket(layout, v);
	*guess = b;
	return b;
}

/* hist_add with hist_bucket_near's guess. */
static __always_inline void hist_add_near(struct hist *h, const volatile struct hist_layout *layout,
					  __u64 v, __u32 *guess)
{
	hist_count(h, v, v ? hist_bucket_near(layout, v, guess) : 0);
}

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
 * Self-telemetry. stats_map is the family's per-CPU probe_stats array, probe the program's
 * number. Every call site names its map itself (a constant once inlined): the verifier inlines
 * a map lookup only where the call site always sees the same map.
 */
static __always_inline struct probe_stats *probe_stats_of(void *stats_map, __u32 probe)
{
	return bpf_map_lookup_elem(stats_map, &probe);
}

/* The program ran for our process: counts the event; the probe's stats, 0 if none. */
static __always_inline struct probe_stats *counted(void *stats_map, __u32 probe)
{
	struct probe_stats *stats = probe_stats_of(stats_map, probe);

	if (stats)
		stats->events++;
	return stats;
}

static __always_inline void count_dropped(void *stats_map, __u32 probe)
{
	struct probe_stats *stats = probe_stats_of(stats_map, probe);

	if (stats)
		stats->dropped++;
}

static __always_inline void count_error(void *stats_map, __u32 probe)
{
	struct probe_stats *stats = probe_stats_of(stats_map, probe);

	if (stats)
		stats->errors++;
}

static __always_inline void count_overflow(void *stats_map, __u32 probe)
{
	struct probe_stats *stats = probe_stats_of(stats_map, probe);

	if (stats)
		stats->overflow++;
}

/*
 * The value under *key in a bounded hash map, created from *init on first use (a zeroed value
 * for counters and histograms: a never-written PERCPU_ARRAY entry, or a stack value). The
 * insert fails with EEXIST when another CPU created the entry meanwhile, which the second
 * lookup then finds, and with E2BIG when the map is full: then 0. Like probe_stats_of, every
 * call site names its map itself.
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

#endif /* JEB_COMMON_BPF_H */
