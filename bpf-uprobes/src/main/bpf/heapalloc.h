/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heap allocation family: records shared between heapalloc.bpf.c and the Java side
 * (AllocationProbes, AllocationStructs).
 *
 * Every allocation that leaves HotSpot's TLAB fast path and succeeds is reported, on the
 * allocating thread, to one of JFR's own hooks, which HotSpot calls with or without JFR:
 *   AllocTracer::send_allocation_in_new_tlab(Klass*, HeapWord* obj, size_t tlab_bytes,
 *                                            size_t alloc_bytes, JavaThread*)
 *   AllocTracer::send_allocation_outside_tlab(Klass*, HeapWord* obj, size_t alloc_bytes,
 *                                             JavaThread*)
 * A thread's heap allocation is then the sum of its new TLABs' sizes and its outside-TLAB
 * allocations (the unused tail of a retired TLAB included, as the JVM counts it too).
 *
 * Classes are keyed by Klass* (captured here, named by Java from the JVM's VMStructs); a new
 * TLAB is credited to the class whose allocation asked for it, which makes bytes by class an
 * estimate, sampled in proportion to bytes as JFR's allocation events are. Key 0 is `other`,
 * where classes beyond the bound go (counted in probe_stats.overflow).
 */
#ifndef JEB_ALLOC_H
#define JEB_ALLOC_H

#include "hist.h"

#define ALLOC_OTHER_KLASS 0
#define ALLOC_OTHER_THREAD 0

/* Programs of heapalloc.bpf.c, in the order of the probe_stats array. */
enum alloc_probe {
	ALLOC_PROBE_NEW_TLAB = 0,	/* uprobe AllocTracer::send_allocation_in_new_tlab */
	ALLOC_PROBE_OUTSIDE_TLAB = 1,	/* uprobe AllocTracer::send_allocation_outside_tlab */
	ALLOC_PROBE_COUNT = 2,
};

/* Configuration, in .rodata, set by Java between open and load. */
struct alloc_config {
	struct process_filter process;
	struct hist_layout size_bytes;	/* for both size histograms */
};
_Static_assert(sizeof(struct alloc_config) == 24 + sizeof(struct hist_layout), "alloc_config padding");

/* Bytes allocated by one thread (alloc_thread_bytes, keyed by the thread's tid). */
struct alloc_thread {
	__u64 tlab_bytes;	/* sizes of the new TLABs it took */
	__u64 outside_bytes;	/* its allocations outside TLABs */
	__u64 java_thread;	/* its JavaThread*, to name it from user space */
	char comm[16];		/* its kernel name (HotSpot sets it from the Java name, truncated) */
};
_Static_assert(sizeof(struct alloc_thread) == 40, "alloc_thread padding");

/* Bytes allocated per class (alloc_class_bytes, keyed by Klass*). */
struct alloc_class {
	__u64 tlab_bytes;	/* new TLABs whose refill an object of this class caused */
	__u64 outside_bytes;	/* objects of this class allocated outside TLABs */
	__u64 tlab_count;
	__u64 outside_count;
};
_Static_assert(sizeof(struct alloc_class) == 32, "alloc_class padding");

#endif /* JEB_ALLOC_H */
