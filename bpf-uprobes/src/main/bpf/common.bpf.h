/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel-side helpers shared by every probe family. Records shared with Java are in hist.h. */
#ifndef JEB_COMMON_BPF_H
#define JEB_COMMON_BPF_H

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

static __always_inline void hist_add(struct hist *h, const volatile struct hist_layout *layout,
				     __u64 v)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->sum += v;
	if (v == 0) {
		h->zero_count++;
	} else {
		__u32 b = hist_bucket(layout, v);

		if (b < HIST_MAX_BUCKETS)
			h->buckets[b]++;
	}
	h->count++;
}

/* True when the current task belongs to the JVM we observe (its pid namespace, its tgid). */
static __always_inline int is_our_process(const volatile struct process_filter *filter)
{
	struct bpf_pidns_info ns = {};

	if (bpf_get_ns_current_pid_tgid(filter->pidns_dev, filter->pidns_ino, &ns, sizeof(ns)))
		return 0;
	return ns.tgid == filter->tgid;
}

static __always_inline struct probe_stats *probe_stats_of(void *stats_map, __u32 probe)
{
	return bpf_map_lookup_elem(stats_map, &probe);
}

#endif /* JEB_COMMON_BPF_H */
