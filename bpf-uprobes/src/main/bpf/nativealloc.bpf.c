// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* Native allocation of our own JVM through libc (opt-in). See nativealloc.h. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "nativealloc.h"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct native_config config = {};

HIST_BUCKET_SEARCH(size_bucket, config.size_bytes)

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct native_call);
} native_calls SEC(".maps");

/* Live blocks by address; Java sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1048576);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct native_block);
} native_live SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NATIVE_ALLOCATOR_COUNT);
	__type(key, enum native_allocator);	/* keeps the enum in BTF for the layout test */
	__type(value, struct hist);
} native_size SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NATIVE_ALLOCATOR_COUNT);
	__type(key, __u32);
	__type(value, struct native_outstanding);
} native_outstanding SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NATIVE_PROBE_COUNT);
	__type(key, __u32);
	__type(value, struct probe_stats);
} nativealloc_stats SEC(".maps");

/*
 * Keeps enum native_probe in the object's BTF for the layout test. Not the map's key type: the kernel
 * takes an array map's BTF only with an integer key, and libbpf created the map again without it.
 */
const volatile enum native_probe native_probe_btf = 0;

static __always_inline void adjust(__u32 allocator, __s64 bytes, __s64 blocks)
{
	struct native_outstanding *o = bpf_map_lookup_elem(&native_outstanding, &allocator);

	if (o) {
		/* Two's complement: adding the u64 of a negative delta subtracts it. */
		add_atomic((__u64 *)&o->bytes, (__u64)bytes);
		add_atomic((__u64 *)&o->blocks, (__u64)blocks);
	}
}

/* Entry of a call of the family: records it unless it is nested in another. */
static __always_inline void enter(enum native_probe probe, __u64 size, __u64 old_ptr, __u64 out_ptr,
				  __u32 reserve_only)
{
	struct probe_stats *stats;
	struct native_call *call, fresh = {};
	__u32 tid;

	if (!is_our_process(&config.process))
		return;
	stats = counted(&nativealloc_stats, probe);
	tid = (__u32)bpf_get_current_pid_tgid();
	call = bpf_map_lookup_elem(&native_calls, &tid);
	if (call && call->depth < NATIVE_MAX_DEPTH) {
		call->depth++;
		return;
	}
	/* No call in flight, or one whose returns were lost: start afresh. */
	fresh.size = size;
	fresh.old_ptr = old_ptr;
	fresh.out_ptr = out_ptr;
	fresh.depth = 1;
	fresh.reserve_only = reserve_only;
	if (bpf_map_update_elem(&native_calls, &tid, &fresh, BPF_ANY))
		stat_dropped(stats);
}

/* Return of a call: true with *out filled when it was an outermost call. */
static __always_inline bool leave(enum native_probe probe, struct native_call *out)
{
	struct probe_stats *stats;
	struct native_call *call;
	__u32 tid;

	if (!is_our_process(&config.process))
		return false;
	stats = counted(&nativealloc_stats, probe);
	tid = (__u32)bpf_get_current_pid_tgid();
	call = begun(&native_calls, &tid, stats);
	if (!call)
		return false;
	if (call->depth > 1) {
		call->depth--;
		return false;
	}
	*out = *call;
	bpf_map_delete_elem(&native_calls, &tid);
	return true;
}

/* True when the current thread is inside a call of the family (glibc calling itself). */
static __always_inline bool nested(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	return bpf_map_lookup_elem(&native_calls, &tid) != 0;
}

static __always_inline void track(__u64 ptr, __u64 size, __u32 allocator, enum native_probe probe)
{
	struct native_block block = { .size = size, .allocator = allocator };
	struct hist *h = bpf_map_lookup_elem(&native_size, &allocator);

	if (h)
		hist_add(h, size_bucket, size);
	if (bpf_map_update_elem(&native_live, &ptr, &block, BPF_ANY)) {
		count_dropped(&nativealloc_stats, probe);
		return;
	}
	adjust(allocator, (__s64)size, 1);
}

/* Forgets the block at ptr if it is tracked and of this allocator. */
static __always_inline void untrack(__u64 ptr, __u32 allocator)
{
	struct native_block *block = bpf_map_lookup_elem(&native_live, &ptr);

	if (!block || block->allocator != allocator)
		return;
	adjust(allocator, -(__s64)block->size, -1);
	bpf_map_delete_elem(&native_live, &ptr);
}

/* Return of malloc or calloc: tracks the block they returned, if any. */
static __always_inline void block_returned(enum native_probe probe, __u64 ptr)
{
	struct native_call call;

	if (leave(probe, &call) && ptr)
		track(ptr, call.size, NATIVE_ALLOCATOR_MALLOC, probe);
}

SEC("uprobe")
int BPF_KPROBE(uprobe_malloc, __u64 size)
{
	enter(NATIVE_PROBE_MALLOC, size, 0, 0, 0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_malloc, __u64 ptr)
{
	block_returned(NATIVE_PROBE_MALLOC_RETURN, ptr);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_calloc, __u64 count, __u64 size)
{
	enter(NATIVE_PROBE_CALLOC, count * size, 0, 0, 0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_calloc, __u64 ptr)
{
	block_returned(NATIVE_PROBE_CALLOC_RETURN, ptr);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_realloc, __u64 old_ptr, __u64 size)
{
	enter(NATIVE_PROBE_REALLOC, size, old_ptr, 0, 0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_realloc, __u64 ptr)
{
	struct native_call call;

	if (!leave(NATIVE_PROBE_REALLOC_RETURN, &call))
		return 0;
	/* The old block is gone when realloc succeeded, or when it freed it (size 0). */
	if (call.old_ptr && (ptr || call.size == 0))
		untrack(call.old_ptr, NATIVE_ALLOCATOR_MALLOC);
	if (ptr)
		track(ptr, call.size, NATIVE_ALLOCATOR_MALLOC, NATIVE_PROBE_REALLOC_RETURN);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_posix_memalign, __u64 out_ptr, __u64 alignment, __u64 size)
{
	enter(NATIVE_PROBE_POSIX_MEMALIGN, size, 0, out_ptr, 0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_posix_memalign, int rc)
{
	struct native_call call;
	__u64 ptr = 0;

	if (!leave(NATIVE_PROBE_POSIX_MEMALIGN_RETURN, &call) || rc != 0)
		return 0;
	if (bpf_probe_read_user(&ptr, sizeof(ptr), (const void *)call.out_ptr)) {
		count_error(&nativealloc_stats, NATIVE_PROBE_POSIX_MEMALIGN_RETURN);
		return 0;
	}
	if (ptr)
		track(ptr, call.size, NATIVE_ALLOCATOR_MALLOC, NATIVE_PROBE_POSIX_MEMALIGN_RETURN);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_free, __u64 ptr)
{
	if (!is_our_process(&config.process))
		return 0;
	counted(&nativealloc_stats, NATIVE_PROBE_FREE);
	if (ptr && !nested())
		untrack(ptr, NATIVE_ALLOCATOR_MALLOC);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_mmap, __u64 addr, __u64 length, int prot)
{
	enter(NATIVE_PROBE_MMAP, length, 0, 0, prot == 0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_mmap, __u64 ptr)
{
	struct native_call call;

	if (!leave(NATIVE_PROBE_MMAP_RETURN, &call) || ptr == (__u64)-1)
		return 0;
	/* A mapping placed over a tracked one (MAP_FIXED) replaces it. */
	untrack(ptr, NATIVE_ALLOCATOR_MMAP);
	if (!call.reserve_only)
		track(ptr, call.size, NATIVE_ALLOCATOR_MMAP, NATIVE_PROBE_MMAP_RETURN);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_munmap, __u64 addr, __u64 length)
{
	struct native_block *block;
	struct native_block rest;
	__u64 rest_addr;

	if (!is_our_process(&config.process))
		return 0;
	counted(&nativealloc_stats, NATIVE_PROBE_MUNMAP);
	if (nested())
		return 0;
	block = bpf_map_lookup_elem(&native_live, &addr);
	if (!block || block->allocator != NATIVE_ALLOCATOR_MMAP)
		return 0;
	if (length >= block->size) {
		untrack(addr, NATIVE_ALLOCATOR_MMAP);
		return 0;
	}
	/* The head goes, the tail stays tracked at its own address. */
	rest.size = block->size - length;
	rest.allocator = NATIVE_ALLOCATOR_MMAP;
	rest.pad = 0;
	rest_addr = addr + length;
	adjust(NATIVE_ALLOCATOR_MMAP, -(__s64)length, 0);
	bpf_map_delete_elem(&native_live, &addr);
	if (bpf_map_update_elem(&native_live, &rest_addr, &rest, BPF_ANY))
		adjust(NATIVE_ALLOCATOR_MMAP, -(__s64)rest.size, -1);
	return 0;
}
