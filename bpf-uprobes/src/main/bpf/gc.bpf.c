// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* GC collections and pauses of our own JVM, from HotSpot's USDT probes. See gc.h. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "gc.h"
#include "common.bpf.h"
#include "events.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct gc_config config = {};
/* Never read: keeps the span record in BTF, where KernelLayoutTest checks its Java mirror. */
const volatile struct gc_event gc_event_layout = {};

HIST_BUCKET_SEARCH(duration_bucket, config.duration_ns)

/* Whether a generational-ZGC minor cycle is running (see gc.h). */
__u32 minor_active = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GC_MAX_IDS);
	__type(key, struct gc_name);
	__type(value, __u32);
} gc_name_ids SEC(".maps");

/* Sized by Java to the number of ids in use. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GC_MAX_IDS);
	__type(key, __u32);
	__type(value, struct hist);
} gc_duration SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct gc_pool_key);
	__type(value, struct gc_pool_usage);
} gc_pool_usage SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct gc_active_key);
	__type(value, struct gc_active);
} gc_active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct gc_pause);
} gc_pauses SEC(".maps");

/*
 * Nonzero once Java has opened it (GcProbes.startCounting): nothing is counted before, so the
 * counts start at one instant the agent chooses (the moment it says it is on) instead of at the
 * first probe's attach, with the attach of the others and the agent's own allocation between.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} gc_gate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GC_PROBE_COUNT);
	__type(key, __u32);
	__type(value, struct probe_stats);
} gc_stats SEC(".maps");

/*
 * Keeps enum gc_probe in the object's BTF for the layout test. Not the map's key type: the kernel
 * takes an array map's BTF only with an integer key, and libbpf created the map again without it.
 */
const volatile enum gc_probe gc_probe_btf = 0;

/* A collection or pause of manager from start_ns to end_ns: its histogram, and a span if wanted. */
static __always_inline void record_duration(__u32 manager, __u16 kind, __u64 start_ns, __u64 end_ns,
					    struct probe_stats *stats)
{
	__u64 duration_ns = end_ns - start_ns;
	struct hist *h = bpf_map_lookup_elem(&gc_duration, &manager);
	struct gc_event *e;

	if (!h) {
		__u32 other = GC_OTHER_ID;

		h = bpf_map_lookup_elem(&gc_duration, &other);
	}
	if (h)
		hist_add(h, duration_bucket, duration_ns);
	if (!span_wanted(config.span_min_ns, duration_ns))
		return;
	e = span_reserve(sizeof(*e), EVENT_SOURCE_GC, kind, start_ns, end_ns, false, stats);
	if (!e)
		return;
	e->manager = manager;
	e->pad = 0;
	span_submit(e, stats);
}

/*
 * Whether an end may count: the gate open. Begins and ends are tracked from the moment the
 * probes attach, gate or not, so that a collection already running when the gate opens (a
 * concurrent ZGC or Shenandoah cycle: Java runs meanwhile) is counted at its end, as its
 * MXBean counts it; before the gate, an end only clears what its begin left.
 */
static __always_inline bool gate_open(void)
{
	__u32 zero = 0;
	__u32 *open = bpf_map_lookup_elem(&gc_gate, &zero);

	return open && *open;
}

static __always_inline int is_cycle_manager(long manager)
{
	return (config.minor_cycle_manager && manager == config.minor_cycle_manager) ||
	       (config.major_cycle_manager && manager == config.major_cycle_manager);
}

/* A collection of `manager` has reported every pool at its start: HotSpot's moment to set the flag. */
static __always_inline void cycle_started(long manager)
{
	if (config.minor_cycle_manager && manager == config.minor_cycle_manager)
		minor_active = 1;
	else if (config.major_cycle_manager && manager == config.major_cycle_manager)
		minor_active = 0;
}

/*
 * Id of the name at user address text, len bytes long; -1 if unreadable. HotSpot's names are
 * C strings: a string read of at most len bytes (and the key's room) stops at the first NUL or
 * at len, whichever comes first, and leaves the rest of the key zero, NUL-padded like the keys
 * Java wrote. One read with a bounded size, not a loop over the key: a loop that zeroed the
 * bytes past len cost the verifier about 9,500 instructions, 15 ms of CPU at every start, in
 * each program calling it. A global function (see HIST_BUCKET_SEARCH), verified once.
 */
__noinline long name_id(__u64 text, long len, struct probe_stats *stats)
{
	struct gc_name key = {};
	__u64 size;
	__u32 *id;

	if (len < 0)
		return -1;
	/* The string's bytes plus its NUL, within the key: bounded on the register passed. */
	size = (__u64)len + 1;
	barrier_var(size);
	if (size > GC_NAME_LEN)
		size = GC_NAME_LEN;
	if (bpf_probe_read_user_str(key.text, size, (const void *)text) < 0)
		return -1;
	id = bpf_map_lookup_elem(&gc_name_ids, &key);
	if (id)
		return *id;
	stat_overflow(stats);
	return GC_OTHER_ID;
}

SEC("usdt")
int BPF_USDT(usdt_gc_begin, long full)
{
	struct probe_stats *stats;
	struct gc_pause pause = {};
	__u32 tid;

	if (!is_our_process(&config.process))
		return 0;
	stats = counted(&gc_stats, GC_PROBE_GC_BEGIN);
	tid = (__u32)bpf_get_current_pid_tgid();
	pause.start_ns = bpf_ktime_get_ns();
	pause.minor = minor_active ? 1 : 0;
	if (bpf_map_update_elem(&gc_pauses, &tid, &pause, BPF_ANY))
		stat_dropped(stats);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt_gc_end)
{
	__u64 now = bpf_ktime_get_ns();
	struct probe_stats *stats;
	struct gc_pause *pause;
	__u32 tid, manager;

	if (!is_our_process(&config.process))
		return 0;
	stats = counted(&gc_stats, GC_PROBE_GC_END);
	tid = (__u32)bpf_get_current_pid_tgid();
	pause = begun(&gc_pauses, &tid, stats);
	if (!pause)
		return 0;
	manager = config.pause_manager[pause->minor ? 1 : 0];
	if (pause->collections == 0 && manager != 0 && gate_open())
		record_duration(manager, GC_EVENT_PAUSE, pause->start_ns, now, stats);
	bpf_map_delete_elem(&gc_pauses, &tid);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt_mem_pool_gc_begin, const char *manager_name, long manager_len,
	     const char *pool_name, long pool_len)
{
	struct gc_active_key key = {};
	struct probe_stats *stats;
	struct gc_active *active;
	struct gc_pause *pause;
	long manager;

	if (!is_our_process(&config.process))
		return 0;
	stats = counted(&gc_stats, GC_PROBE_POOL_BEGIN);
	manager = name_id((__u64)manager_name, manager_len, stats);
	if (manager < 0) {
		stat_error(stats);
		return 0;
	}
	key.tid = (__u32)bpf_get_current_pid_tgid();
	key.manager = manager;
	active = bpf_map_lookup_elem(&gc_active, &key);
	if (active && active->ends == 0) {
		/* The same collection, next pool. */
		active->begins++;
		if (active->begins == config.pool_count)
			cycle_started(manager);
		return 0;
	}

	/* A new collection begins. */
	struct gc_active fresh = { .start_ns = bpf_ktime_get_ns(), .begins = 1 };

	if (bpf_map_update_elem(&gc_active, &key, &fresh, BPF_ANY)) {
		stat_dropped(stats);
		return 0;
	}
	pause = bpf_map_lookup_elem(&gc_pauses, &key.tid);
	if (pause)
		pause->collections++;
	if (config.pool_count <= 1)
		cycle_started(manager);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt_mem_pool_gc_end, const char *manager_name, long manager_len,
	     const char *pool_name, long pool_len, long initial, long used, long committed)
{
	__u64 now = bpf_ktime_get_ns();
	struct gc_active_key key = {};
	struct gc_pool_key pool_key = {};
	struct gc_pool_usage *usage;
	struct probe_stats *stats;
	struct gc_active *active;
	long manager, pool;
	bool counts;

	if (!is_our_process(&config.process))
		return 0;
	stats = counted(&gc_stats, GC_PROBE_POOL_END);
	manager = name_id((__u64)manager_name, manager_len, stats);
	pool = name_id((__u64)pool_name, pool_len, stats);
	if (manager < 0 || pool < 0) {
		stat_error(stats);
		return 0;
	}

	counts = gate_open();
	pool_key.manager = manager;
	pool_key.pool = pool;
	usage = counts ? bpf_map_lookup_elem(&gc_pool_usage, &pool_key) : NULL;
	if (!counts) {
		/* Before the gate: nothing counted, the collection's state kept in step. */
	} else if (usage) {
		usage->used_bytes = used;
		usage->committed_bytes = committed;
		usage->time_ns = now;
		add_atomic(&usage->collections, 1);
	} else {
		struct gc_pool_usage fresh = {
			.used_bytes = used, .committed_bytes = committed, .time_ns = now, .collections = 1,
		};
		if (bpf_map_update_elem(&gc_pool_usage, &pool_key, &fresh, BPF_NOEXIST))
			stat_dropped(stats);
	}

	key.tid = (__u32)bpf_get_current_pid_tgid();
	key.manager = manager;
	active = begun(&gc_active, &key, stats);
	if (!active)
		return 0;
	active->ends++;
	if (active->ends == 1) {
		/*
		 * HotSpot stamps the collection's end (GcInfo's) right before its first pool's end;
		 * the other pools' usage reads and probes follow. Timed from here, a thread switched
		 * out during that loop does not lengthen the collection.
		 */
		active->end_ns = now;
		if (is_cycle_manager(manager))
			minor_active = 0;
	}
	if (active->ends < active->begins)
		return 0;
	if (counts)
		record_duration(manager, GC_EVENT_COLLECTION, active->start_ns, active->end_ns, stats);
	bpf_map_delete_elem(&gc_active, &key);
	return 0;
}
