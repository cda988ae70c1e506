/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Safepoint family: records shared between safepoint.bpf.c and the Java side (SafepointProbes).
 *
 * HotSpot's VM thread runs every safepoint: SafepointTracing::begin stores the VM operation's
 * type in SafepointTracing::_current_type and its start in _last_safepoint_begin_time_ns, then
 * calls RuntimeService::record_safepoint_begin (USDT hs_private:safepoint__begin). When all Java
 * threads have stopped, SafepointTracing::synchronized stores _last_safepoint_sync_time_ns.
 * At the end, RuntimeService::record_safepoint_end fires hs_private:safepoint__end.
 *
 * Total duration = our end timestamp - our begin timestamp. Time to safepoint is read, at the
 * end, from HotSpot's own two timestamps (os::javaTimeNanos, i.e. CLOCK_MONOTONIC like
 * bpf_ktime_get_ns): no probe in the middle of the safepoint, and the same figure that
 * -Xlog:safepoint prints as "Reaching safepoint".
 *
 * Java computes the variables' addresses from libjvm's symbol table and our load address;
 * an address of 0 disables what depends on it. Op id = type + 1, 0 is `other` (unknown or
 * over the bound); Java names ids from HotSpot's own table, VM_Operation::_names.
 */
#ifndef JEB_SAFEPOINT_H
#define JEB_SAFEPOINT_H

#include "hist.h"
#include "events.h"

#define SAFEPOINT_OTHER_OP 0

/* Programs of safepoint.bpf.c, in the order of the probe_stats array. */
enum safepoint_probe {
	SAFEPOINT_PROBE_BEGIN = 0,	/* usdt hs_private:safepoint__begin */
	SAFEPOINT_PROBE_END = 1,	/* usdt hs_private:safepoint__end */
	SAFEPOINT_PROBE_COUNT = 2,
};

/* Configuration, in .rodata, set by Java between open and load. */
struct safepoint_config {
	struct process_filter process;
	__u64 current_type_addr;	/* &SafepointTracing::_current_type (int) */
	__u64 begin_time_addr;		/* &SafepointTracing::_last_safepoint_begin_time_ns (jlong) */
	__u64 sync_time_addr;		/* &SafepointTracing::_last_safepoint_sync_time_ns (jlong) */
	__u32 op_id_limit;		/* op ids >= this are counted as `other` */
	__u32 pad;
	/* Safepoints lasting at least this long become spans; SPANS_OFF: none. */
	__u64 span_min_ns;
	struct hist_layout duration_ns;
};
_Static_assert(sizeof(struct safepoint_config) == 24 + 40 + sizeof(struct hist_layout),
	       "safepoint_config padding");

/* A safepoint in progress (kernel-private, keyed by thread). */
struct safepoint_active {
	__u64 begin_ns;
	__u32 op;
	__u32 pad;
};

/* A span record (events.h): one safepoint, from its begin probe to its end probe. */
struct safepoint_event {
	struct event_header header;
	__u32 op;		/* VMOp_Type + 1, 0: unknown */
	__u32 pad;
	__u64 sync_ns;		/* time to safepoint; 0 when unknown */
};
_Static_assert(sizeof(struct safepoint_event) == sizeof(struct event_header) + 16, "safepoint_event padding");

#endif /* JEB_SAFEPOINT_H */
