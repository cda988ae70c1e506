/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GC family: records shared between gc.bpf.c and the Java side (GcProbes, GcStructs).
 *
 * A collection is what a GarbageCollectorMXBean counts: HotSpot's GCMemoryManager::gc_begin
 * fires hotspot:mem__pool__gc__begin once per memory pool, and gc_end fires
 * hotspot:mem__pool__gc__end once per pool, all on the collecting thread, both with the
 * manager's name (the bean's name). A collection of manager M on thread T lasts from the
 * first begin to the first end, the probes next to HotSpot's own stamps of its start and end
 * (GcInfo's); the kernel knows the collection is over at the last end, when ends == begins.
 *
 * Managers that record no pool usage (ZGC's and Shenandoah's "... Pauses") fire no pool
 * probes. Their pauses are the hotspot:gc__begin/gc__end pairs (SvcGCMarker) that contain no
 * collection; they are credited to config.pause_manager[minor_active], where minor_active
 * follows HotSpot's own rule for generational ZGC: set when a minor cycle begins, cleared
 * when a major cycle begins or any cycle ends. HotSpot flips it right after the cycle's
 * gc_begin has reported every pool and right before its gc_end reports them, so the kernel
 * does so at the last begin (config.pool_count) and at the first end.
 *
 * Names are matched in the kernel against a table Java fills from the JVM's MXBeans; ids are
 * small integers, 0 is `other`.
 */
#ifndef JEB_GC_H
#define JEB_GC_H

#include "hist.h"
#include "events.h"

#define GC_NAME_LEN 48	/* longer names are compared on their first GC_NAME_LEN - 1 bytes */
#define GC_MAX_IDS 64	/* manager and pool names together, `other` (0) included */
#define GC_OTHER_ID 0

/* Programs of gc.bpf.c, in the order of the probe_stats array. */
enum gc_probe {
	GC_PROBE_GC_BEGIN = 0,		/* usdt hotspot:gc__begin */
	GC_PROBE_GC_END = 1,		/* usdt hotspot:gc__end */
	GC_PROBE_POOL_BEGIN = 2,	/* usdt hotspot:mem__pool__gc__begin */
	GC_PROBE_POOL_END = 3,		/* usdt hotspot:mem__pool__gc__end */
	GC_PROBE_COUNT = 4,
};

struct gc_name {
	char text[GC_NAME_LEN];	/* NUL-padded */
};
_Static_assert(sizeof(struct gc_name) == GC_NAME_LEN, "gc_name padding");

/* Configuration, in .rodata, set by Java between open and load. */
struct gc_config {
	struct process_filter process;
	/* Manager credited with a pause that contains no collection, by minor_active; 0: none. */
	__u32 pause_manager[2];
	/* Generational ZGC's cycle managers, which drive minor_active; 0: not present. */
	__u32 minor_cycle_manager;
	__u32 major_cycle_manager;
	/* Memory pools of the JVM: pool probes per gc_begin/gc_end; 0 if unknown. */
	__u32 pool_count;
	__u32 pad;
	/* Collections and pauses lasting at least this long become spans; SPANS_OFF: none. */
	__u64 span_min_ns;
	struct hist_layout duration_ns;
};
_Static_assert(sizeof(struct gc_config) == 24 + 32 + sizeof(struct hist_layout), "gc_config padding");

/* Pool usage after a collection of `manager` (gc_pool_usage map). */
struct gc_pool_key {
	__u32 manager;
	__u32 pool;
};
_Static_assert(sizeof(struct gc_pool_key) == 8, "gc_pool_key padding");

struct gc_pool_usage {
	__u64 used_bytes;
	__u64 committed_bytes;
	__u64 time_ns;		/* bpf_ktime_get_ns() of the probe */
	__u64 collections;	/* collections of this manager that updated this pool */
};
_Static_assert(sizeof(struct gc_pool_usage) == 32, "gc_pool_usage padding");

/* A collection in progress (kernel-private state, keyed by thread and manager). */
struct gc_active_key {
	__u32 tid;
	__u32 manager;
};

struct gc_active {
	__u64 start_ns;		/* the first pool's begin: right after HotSpot stamps the start */
	__u64 end_ns;		/* the first pool's end: right after HotSpot stamps the end */
	__u32 begins;
	__u32 ends;
};

/* A gc__begin/gc__end pause in progress (kernel-private, keyed by thread). */
struct gc_pause {
	__u64 start_ns;
	__u32 collections;	/* collections that began inside this pause */
	/*
	 * minor_active when the pause began: HotSpot picks the pause's collector right after
	 * gc__begin, and ZGC's driver threads may end a cycle while the pause runs.
	 */
	__u32 minor;
};

/* Kinds of GC span (event_header.kind). */
enum gc_event_kind {
	GC_EVENT_COLLECTION = 1,	/* a collection, as its GarbageCollectorMXBean counts it */
	GC_EVENT_PAUSE = 2,		/* a pause of a "... Pauses" collector (ZGC, Shenandoah) */
};

/* A span record (events.h): a collection or pause of `manager`, on the header's thread. */
struct gc_event {
	struct event_header header;
	__u32 manager;		/* collector id */
	__u32 pad;
};
_Static_assert(sizeof(struct gc_event) == sizeof(struct event_header) + 8, "gc_event padding");

#endif /* JEB_GC_H */
