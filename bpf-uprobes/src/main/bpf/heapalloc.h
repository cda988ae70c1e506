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
 * A thread's bytes are HotSpot's own count, the one ThreadMXBean.getThreadAllocatedBytes reports:
 * Thread::_allocated_bytes (the used part of each TLAB it retired, plus its allocations outside
 * TLABs) plus the used part of its current TLAB (ThreadLocalAllocBuffer::_top - _start). Both
 * hooks run on the allocating thread with its JavaThread*, so the program reads that count there,
 * at the offsets this JVM's VMStructs table gives (alloc_config); a TLAB that a thread took and
 * barely used then counts for what it used, not for its size. The count is read at each hook
 * and, for the last time, at HotSpot's USDT probe hotspot:thread__stop, which the ending thread
 * hits when its run() has returned: the kernel then adds the thread's final bytes to its name's
 * total (alloc_ended_bytes) and drops its entry, so threads that end never wait for user space.
 * A live thread's entry lags its true count by what it used of its current TLAB since it opened
 * it (at most one TLAB); user space reads the live count from the JavaThread at each export.
 *
 * Classes are keyed by Klass* (captured here, named by Java from the JVM's VMStructs). Objects
 * allocated outside TLABs count exactly for their class; the bytes used in a TLAB count for the
 * class whose allocation opened it, which makes bytes by class an estimate, sampled in proportion
 * to bytes as JFR's allocation events are, whose total is the threads' total. Key 0 is `other`,
 * where classes beyond the bound go (counted in probe_stats.overflow).
 */
#ifndef JEB_ALLOC_H
#define JEB_ALLOC_H

#include "hist.h"

#define ALLOC_OTHER_KLASS 0
/* Bytes of a thread's name that count (its UTF-8, cut); a name of all zeros is `other`. */
#define ALLOC_THREAD_NAME_LEN 64

/* Programs of heapalloc.bpf.c, in the order of the probe_stats array. */
enum alloc_probe {
	ALLOC_PROBE_NEW_TLAB = 0,	/* uprobe AllocTracer::send_allocation_in_new_tlab */
	ALLOC_PROBE_OUTSIDE_TLAB = 1,	/* uprobe AllocTracer::send_allocation_outside_tlab */
	ALLOC_PROBE_THREAD_START = 2,	/* usdt hotspot:thread__start */
	ALLOC_PROBE_THREAD_STOP = 3,	/* usdt hotspot:thread__stop */
	ALLOC_PROBE_COUNT = 4,
};

/* Configuration, in .rodata, set by Java between open and load. */
struct alloc_config {
	struct process_filter process;
	struct hist_layout size_bytes;	/* for both size histograms */
	/*
	 * Offsets in a JavaThread, from this JVM's VMStructs. allocated_bytes_offset 0: unknown;
	 * a thread's bytes are then the sizes of its new TLABs plus its outside-TLAB allocations.
	 */
	__u64 allocated_bytes_offset;	/* Thread::_allocated_bytes */
	__u64 tlab_start_offset;	/* Thread::_tlab + ThreadLocalAllocBuffer::_start */
	__u64 tlab_top_offset;		/* Thread::_tlab + ThreadLocalAllocBuffer::_top */
};
_Static_assert(sizeof(struct alloc_config) == 24 + sizeof(struct hist_layout) + 24, "alloc_config padding");

/*
 * A live thread (alloc_threads, keyed by its tid as the JVM's pid namespace numbers it, which
 * /proc/self/task lists there). Only that thread writes it. Its bytes are seen_bytes - base_bytes.
 */
struct alloc_thread {
	__u64 base_bytes;	/* HotSpot's count for it just before its first allocation we saw */
	__u64 seen_bytes;	/* HotSpot's count for it at its last hook */
	__u64 java_thread;	/* its JavaThread*, to name it from user space */
	__u64 tlab_klass;	/* Klass* of the allocation that opened its current TLAB */
	char comm[16];		/* its kernel name (HotSpot sets it from the Java name, truncated) */
};
_Static_assert(sizeof(struct alloc_thread) == 48, "alloc_thread padding");

/* A thread's Java name (HotSpot's UTF-8), NUL-padded, cut to ALLOC_THREAD_NAME_LEN - 1 bytes. */
struct alloc_thread_name {
	char text[ALLOC_THREAD_NAME_LEN];
};
_Static_assert(sizeof(struct alloc_thread_name) == ALLOC_THREAD_NAME_LEN, "alloc_thread_name padding");

/* Threads that ended, by name (alloc_ended_bytes); cumulative, never removed. */
struct alloc_ended {
	__u64 bytes;		/* what they allocated, each from its first hook to its end */
	__u64 threads;		/* how many ended */
};
_Static_assert(sizeof(struct alloc_ended) == 16, "alloc_ended padding");

/* Bytes allocated per class (alloc_class_bytes, keyed by Klass*). */
struct alloc_class {
	__u64 tlab_bytes;	/* bytes used in the TLABs that an object of this class opened */
	__u64 outside_bytes;	/* objects of this class allocated outside TLABs */
	__u64 tlab_count;	/* TLABs it opened */
	__u64 outside_count;	/* its objects allocated outside TLABs */
};
_Static_assert(sizeof(struct alloc_class) == 32, "alloc_class padding");

#endif /* JEB_ALLOC_H */
