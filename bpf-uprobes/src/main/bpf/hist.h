/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-kernel histograms whose buckets are exactly OpenTelemetry base-2 exponential-histogram
 * buckets. Shared by every probe family and mirrored in Java by HistStructs (the records) and
 * HistogramLayout (the bucket table); KernelLayoutTest checks the mirrors against each program
 * object's BTF.
 *
 * Values are non-negative integers in a base unit (nanoseconds, bytes). Java computes, for the
 * configured scale, the sorted table `upper`: upper[i] is the largest value that falls in
 * OpenTelemetry bucket (first_index + i) once converted to the metric's unit (seconds, bytes).
 * Bucket i therefore holds the values v with upper[i-1] < v <= upper[i], the same
 * lower-exclusive, upper-inclusive convention as OpenTelemetry. The last used entry is
 * UINT64_MAX, so every value has a bucket. Zero goes to zero_count.
 */
#ifndef JEB_HIST_H
#define JEB_HIST_H

/* Room for scale 3 over [1, 2^48): 385 buckets. */
#define HIST_MAX_BUCKETS 400
/*
 * Entries of a layout's table: the power of two at or above HIST_MAX_BUCKETS, so that the search
 * (common.bpf.h) halves it without bound checks. Entries past bucket_count are UINT64_MAX.
 */
#define HIST_LAYOUT_ENTRIES 512

struct hist_layout {
	__u64 upper[HIST_LAYOUT_ENTRIES];
	__u32 bucket_count;	/* entries of upper[] in use, 1..HIST_MAX_BUCKETS */
	__s32 first_index;	/* OpenTelemetry bucket index of upper[0] (used by Java only) */
	__s32 scale;		/* OpenTelemetry scale the table was computed for (Java only) */
	__u32 pad;
};
_Static_assert(sizeof(struct hist_layout) == HIST_LAYOUT_ENTRIES * 8 + 16, "hist_layout padding");
_Static_assert((HIST_LAYOUT_ENTRIES & (HIST_LAYOUT_ENTRIES - 1)) == 0 && HIST_LAYOUT_ENTRIES >= HIST_MAX_BUCKETS,
	       "HIST_LAYOUT_ENTRIES: a power of two with room for every bucket");

/*
 * One histogram, in a map value that every CPU shares: programs update it with atomic adds
 * (common.bpf.h), so an update is never lost to another CPU or to preemption, and its memory
 * does not grow with the number of CPUs. There is no running count: readers take zero_count
 * plus the sum of buckets, which stays self-consistent when a read races an update (and spares
 * every update one atomic add). min is the least value above zero (0: none yet; readers take 0
 * when zero_count is not 0), max the greatest.
 */
struct hist {
	__u64 sum;
	__u64 min;
	__u64 max;
	__u64 zero_count;
	__u64 buckets[HIST_MAX_BUCKETS];
};
_Static_assert(sizeof(struct hist) == (4 + HIST_MAX_BUCKETS) * 8, "hist padding");

/*
 * Self-telemetry of one program, in a per-CPU array indexed by the program's number
 * (the family header's enum), added to atomically like every shared value (see add_atomic in
 * common.bpf.h). Exported as jvm.ebpf.probe.* with attribute `probe`.
 */
struct probe_stats {
	__u64 events;	/* times the program ran for our process */
	__u64 dropped;	/* events lost: a map was full, or the span ring buffer had no room */
	__u64 errors;	/* events that could not be read: a failed user-memory read, an end without a begin */
	__u64 overflow;	/* events whose attribute fell into the bounded set's `other` id */
	__u64 spans;	/* events sent to the span ring buffer (events.h) */
};
_Static_assert(sizeof(struct probe_stats) == 40, "probe_stats padding");

/*
 * Our own process, as seen from the pid namespace the JVM runs in (containers included).
 * pidns_dev/pidns_ino identify that namespace (stat of /proc/self/ns/pid); tgid is the
 * JVM's pid inside it.
 */
struct process_filter {
	__u64 pidns_dev;
	__u64 pidns_ino;
	__u32 tgid;
	__u32 pad;
};
_Static_assert(sizeof(struct process_filter) == 24, "process_filter padding");

#endif /* JEB_HIST_H */
