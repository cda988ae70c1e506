/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Native allocation family (opt-in): records shared between nativealloc.bpf.c and the Java side
 * (NativeAllocationProbes, NativeAllocationStructs).
 *
 * Entry and return probes on our libc's malloc, calloc, realloc and posix_memalign, entry
 * probes on free, and the same for mmap/munmap. A block is tracked from the call that returned
 * it to the free/munmap of its address, in native_live (bounded: a block that finds it full is
 * counted in probe_stats.dropped and stays untracked). Blocks that existed before the probes
 * were attached are not tracked, so "outstanding" is what was allocated since then and is
 * still live.
 *
 * glibc calls its own functions internally (malloc may mmap, realloc may malloc, free may
 * munmap) through the same addresses; only the outermost call of a thread counts: native_calls
 * holds the call in flight per thread with a nesting depth. mmap with PROT_NONE reserves
 * address space without memory and is not counted; an mmap that lands on a tracked mapping's
 * address replaces it. munmap of the start of a tracked mapping shrinks or ends it; unmapping
 * from its middle is not followed.
 */
#ifndef JEB_NATIVE_H
#define JEB_NATIVE_H

#include "hist.h"

/* Deeper nesting than glibc ever does means a lost return: the call is started afresh. */
#define NATIVE_MAX_DEPTH 8

/* Programs of nativealloc.bpf.c, in the order of the probe_stats array. */
enum native_probe {
	NATIVE_PROBE_MALLOC = 0,
	NATIVE_PROBE_MALLOC_RETURN = 1,
	NATIVE_PROBE_CALLOC = 2,
	NATIVE_PROBE_CALLOC_RETURN = 3,
	NATIVE_PROBE_REALLOC = 4,
	NATIVE_PROBE_REALLOC_RETURN = 5,
	NATIVE_PROBE_POSIX_MEMALIGN = 6,
	NATIVE_PROBE_POSIX_MEMALIGN_RETURN = 7,
	NATIVE_PROBE_FREE = 8,
	NATIVE_PROBE_MMAP = 9,
	NATIVE_PROBE_MMAP_RETURN = 10,
	NATIVE_PROBE_MUNMAP = 11,
	NATIVE_PROBE_COUNT = 12,
};

/* Where a block came from: index of native_size and native_outstanding. */
enum native_allocator {
	NATIVE_ALLOCATOR_MALLOC = 0,	/* malloc, calloc, realloc, posix_memalign */
	NATIVE_ALLOCATOR_MMAP = 1,	/* mmap */
	NATIVE_ALLOCATOR_COUNT = 2,
};

/* Configuration, in .rodata, set by Java between open and load. */
struct native_config {
	struct process_filter process;
	struct hist_layout size_bytes;
};
_Static_assert(sizeof(struct native_config) == 24 + sizeof(struct hist_layout), "native_config padding");

/* The outermost call in flight on a thread (kernel-private, keyed by tid). */
struct native_call {
	__u64 size;		/* bytes asked for */
	__u64 old_ptr;		/* realloc: the block being resized */
	__u64 out_ptr;		/* posix_memalign: where the result is stored */
	__u32 depth;		/* calls of the family nested in it, itself included */
	__u32 reserve_only;	/* mmap with PROT_NONE */
};

/* A live block (native_live, keyed by its address). */
struct native_block {
	__u64 size;
	__u32 allocator;	/* enum native_allocator */
	__u32 pad;
};
_Static_assert(sizeof(struct native_block) == 16, "native_block padding");

/* Outstanding memory of one allocator; per CPU, summed by Java (a free may run on another CPU). */
struct native_outstanding {
	__s64 bytes;
	__s64 blocks;
};
_Static_assert(sizeof(struct native_outstanding) == 16, "native_outstanding padding");

#endif /* JEB_NATIVE_H */
