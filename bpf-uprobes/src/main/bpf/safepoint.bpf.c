// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* Safepoints of our own JVM: total pause and time to safepoint, by VM operation. See safepoint.h. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "safepoint.h"
#include "common.bpf.h"
#include "events.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct safepoint_config config = {};

HIST_BUCKET_SEARCH(duration_bucket, config.duration_ns)

/* Histograms by op id. Entries are created on an op's first safepoint, so memory follows the
 * ops actually seen; Java creates `other` (0) up front and sizes the maps to the bound. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65);
	__type(key, __u32);
	__type(value, struct hist);
} safepoint_duration SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65);
	__type(key, __u32);
	__type(value, struct hist);
} safepoint_sync_duration SEC(".maps");

/* Never written: the zeroed value new histogram entries start from. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} safepoint_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct safepoint_active);
} safepoint_active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SAFEPOINT_PROBE_COUNT);
	__type(key, __u32);
	__type(value, struct probe_stats);
} safepoint_stats SEC(".maps");

/*
 * Keeps enum safepoint_probe in the object's BTF for the layout test. Not the map's key type: the kernel
 * takes an array map's BTF only with an integer key, and libbpf created the map again without it.
 */
const volatile enum safepoint_probe safepoint_probe_btf = 0;

/* The histogram of op in map; `other`'s (counted as an overflow) once the bound on distinct ops is reached. */
static __always_inline struct hist *op_hist(void *map, __u32 op, struct probe_stats *stats)
{
	__u32 zero_key = 0, other = SAFEPOINT_OTHER_OP;
	bool overflowed = false;
	struct hist *h;
	void *zero;

	zero = bpf_map_lookup_elem(&safepoint_zero, &zero_key);
	if (!zero)
		return 0;
	h = map_get_or_other(map, &op, zero, &other, &overflowed);
	if (overflowed)
		stat_overflow(stats);
	return h;
}

SEC("usdt")
int BPF_USDT(usdt_safepoint_begin)
{
	struct safepoint_active active = {};
	struct probe_stats *stats;
	__u32 tid;
	__s32 type = -1;

	if (!is_our_process(&config.process))
		return 0;
	stats = counted(&safepoint_stats, SAFEPOINT_PROBE_BEGIN);
	active.begin_ns = bpf_ktime_get_ns();
	active.op = SAFEPOINT_OTHER_OP;
	if (config.current_type_addr) {
		if (bpf_probe_read_user(&type, sizeof(type), (const void *)config.current_type_addr)) {
			stat_error(stats);
		} else if (type >= 0 && (__u32)type + 1 < config.op_id_limit) {
			active.op = (__u32)type + 1;
		} else {
			stat_overflow(stats);
		}
	}
	tid = (__u32)bpf_get_current_pid_tgid();
	if (bpf_map_update_elem(&safepoint_active, &tid, &active, BPF_ANY))
		stat_dropped(stats);
	return 0;
}

/* Never read: keeps the span record in BTF, where KernelLayoutTest checks its Java mirror. */
const volatile struct safepoint_event safepoint_event_layout = {};

SEC("usdt")
int BPF_USDT(usdt_safepoint_end)
{
	__u64 now = bpf_ktime_get_ns();
	struct safepoint_active *active;
	struct safepoint_event *e;
	struct probe_stats *stats;
	__u64 sync_ns = 0;
	struct hist *h;
	__u32 tid;

	if (!is_our_process(&config.process))
		return 0;
	stats = counted(&safepoint_stats, SAFEPOINT_PROBE_END);
	tid = (__u32)bpf_get_current_pid_tgid();
	active = begun(&safepoint_active, &tid, stats);
	if (!active)
		return 0;
	h = op_hist(&safepoint_duration, active->op, stats);
	if (h)
		hist_add(h, duration_bucket, now - active->begin_ns);
	if (config.begin_time_addr && config.sync_time_addr) {
		__s64 began = 0, synced = 0;

		if (bpf_probe_read_user(&began, sizeof(began), (const void *)config.begin_time_addr) ||
		    bpf_probe_read_user(&synced, sizeof(synced), (const void *)config.sync_time_addr)) {
			stat_error(stats);
		} else if (synced >= began && began > 0) {
			sync_ns = (__u64)(synced - began);
			h = op_hist(&safepoint_sync_duration, active->op, stats);
			if (h)
				hist_add(h, duration_bucket, sync_ns);
		}
	}
	if (span_wanted(config.span_min_ns, now - active->begin_ns)) {
		e = span_reserve(sizeof(*e), EVENT_SOURCE_SAFEPOINT, 0, active->begin_ns, now, false, stats);
		if (e) {
			e->op = active->op;
			e->pad = 0;
			e->sync_ns = sync_ns;
			span_submit(e, stats);
		}
	}
	bpf_map_delete_elem(&safepoint_active, &tid);
	return 0;
}
