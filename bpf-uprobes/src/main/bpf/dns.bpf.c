// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* Name lookups of our own JVM through libc's getaddrinfo. See dns.h. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "dns.h"
#include "common.bpf.h"
#include "events.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct dns_config config = {};

/* Never read: keeps the span record in BTF, where KernelLayoutTest checks its Java mirror. */
const volatile struct dns_event dns_event_layout = {};

HIST_BUCKET_SEARCH(duration_bucket, config.duration_ns)

/* The lookup in flight on a thread (kernel-private, keyed by tid). */
struct dns_call {
	__u64 start_ns;
	struct dns_name name;
	__u32 depth;		/* getaddrinfo does not call itself; a deeper one means a lost return */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct dns_call);
} dns_calls SEC(".maps");

/* Names with a series of their own; Java sizes it to the bound. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct dns_name);
	__type(value, __u32);
} dns_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, struct dns_lookup_key);
	__type(value, struct hist);
} dns_lookup_duration SEC(".maps");

/* Never written: the zeroed value new histogram entries start from. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} dns_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DNS_PROBE_COUNT);
	__type(key, __u32);
	__type(value, struct probe_stats);
} dns_stats SEC(".maps");

/*
 * Keeps enum dns_probe in the object's BTF for the layout test. Not the map's key type: the kernel
 * takes an array map's BTF only with an integer key, and libbpf created the map again without it.
 */
const volatile enum dns_probe dns_probe_btf = 0;

/* int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, ...) */
SEC("uprobe")
int BPF_KPROBE(uprobe_getaddrinfo, const char *node)
{
	char buffer[DNS_NAME_MAX + 2] = {};
	struct dns_call fresh = {};
	struct probe_stats *stats;
	struct dns_call *call;
	__u32 tid;
	long length;

	if (!is_our_process(&config.process))
		return 0;
	stats = counted(&dns_stats, DNS_PROBE_GETADDRINFO);
	tid = (__u32)bpf_get_current_pid_tgid();
	call = bpf_map_lookup_elem(&dns_calls, &tid);
	if (call && call->depth < 4) {
		call->depth++;
		return 0;
	}
	if (node) {
		/* One byte more than we keep, to tell a name of exactly DNS_NAME_MAX bytes from a longer one. */
		length = bpf_probe_read_user_str(buffer, sizeof(buffer), node);
		if (length < 0) {
			stat_error(stats);
			length = 0;
		}
		__builtin_memcpy(fresh.name.name, buffer, DNS_NAME_MAX);
		fresh.name.truncated = length > DNS_NAME_MAX + 1;
	}
	fresh.depth = 1;
	fresh.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&dns_calls, &tid, &fresh, BPF_ANY))
		stat_dropped(stats);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_getaddrinfo, int rc)
{
	struct dns_lookup_key key = {};
	struct probe_stats *stats;
	struct dns_call *call;
	__u32 zero = 0, tid, one = 1;
	__u64 now = bpf_ktime_get_ns(), duration;
	struct hist *h;
	void *fresh;

	if (!is_our_process(&config.process))
		return 0;
	stats = counted(&dns_stats, DNS_PROBE_GETADDRINFO_RETURN);
	tid = (__u32)bpf_get_current_pid_tgid();
	call = begun(&dns_calls, &tid, stats);
	if (!call)
		return 0;
	if (call->depth > 1) {
		call->depth--;
		return 0;
	}
	duration = now - call->start_ns;
	__builtin_memcpy(&key.name, &call->name, sizeof(key.name));
	key.result = rc;
	if (span_wanted(config.span_min_ns, duration) || (rc != 0 && config.span_min_ns != SPANS_OFF)) {
		struct dns_event *e = span_reserve(sizeof(*e), EVENT_SOURCE_DNS, 0, call->start_ns, now, true, stats);

		if (e) {
			__builtin_memcpy(&e->name, &key.name, sizeof(e->name));
			e->result = rc;
			e->pad = 0;
			span_submit(e, stats);
		}
	}
	bpf_map_delete_elem(&dns_calls, &tid);

	/* A name gets its own series on first sight, until the bound is reached. */
	if (!map_get_or_init(&dns_names, &key.name, &one)) {
		__builtin_memset(&key.name, 0, sizeof(key.name));
		key.name.other = 1;
		stat_overflow(stats);
	}
	fresh = bpf_map_lookup_elem(&dns_zero, &zero);
	h = fresh ? map_get_or_init(&dns_lookup_duration, &key, fresh) : 0;
	if (h)
		hist_add(h, duration_bucket, duration);
	else stat_dropped(stats);
	return 0;
}
