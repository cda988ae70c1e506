/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS family: records shared between dns.bpf.c and the Java side (DnsProbes, DnsStructs).
 *
 * Entry and return probes on our libc's getaddrinfo(node, service, hints, res), through which
 * the JDK resolves every name (InetAddress, and so every client built on it). The entry keeps
 * the start time and the queried name (its first DNS_NAME_MAX bytes); the return records the
 * duration under that name and getaddrinfo's result (0, or an EAI_* code, which is negative).
 *
 * Names are bounded: the first `name limit` names get their own series, later ones count under
 * the `other` name (other = 1, name empty) and in probe_stats.overflow.
 */
#ifndef JEB_DNS_H
#define JEB_DNS_H

#include "hist.h"
#include "events.h"

/* Bytes of a queried name kept; longer names are truncated (truncated = 1). */
#define DNS_NAME_MAX 64

/* Programs of dns.bpf.c, in the order of the probe_stats array. */
enum dns_probe {
	DNS_PROBE_GETADDRINFO = 0,
	DNS_PROBE_GETADDRINFO_RETURN = 1,
	DNS_PROBE_COUNT = 2,
};

/* Configuration, in .rodata, set by Java between open and load. */
struct dns_config {
	struct process_filter process;
	/* Lookups lasting at least this long, and every failed one, become spans; SPANS_OFF: none. */
	__u64 span_min_ns;
	struct hist_layout duration_ns;
};
_Static_assert(sizeof(struct dns_config) == 32 + sizeof(struct hist_layout), "dns_config padding");

/* A queried name: NUL-padded, not NUL-terminated when it fills the array. */
struct dns_name {
	char name[DNS_NAME_MAX];
	__u32 truncated;	/* 1: the name was longer than DNS_NAME_MAX bytes */
	__u32 other;		/* 1: the overflow name, every other field zero */
};
_Static_assert(sizeof(struct dns_name) == DNS_NAME_MAX + 8, "dns_name padding");

/* Key of dns_lookup_duration. */
struct dns_lookup_key {
	struct dns_name name;
	__s32 result;		/* getaddrinfo's return value: 0 or EAI_* (negative) */
	__u32 pad;
};
_Static_assert(sizeof(struct dns_lookup_key) == DNS_NAME_MAX + 16, "dns_lookup_key padding");

/* A span record (events.h): one lookup, with the name asked for (before any folding into `other`). */
struct dns_event {
	struct event_header header;
	struct dns_name name;
	__s32 result;		/* getaddrinfo's return value */
	__u32 pad;
};
_Static_assert(sizeof(struct dns_event) == sizeof(struct event_header) + DNS_NAME_MAX + 16, "dns_event padding");

#endif /* JEB_DNS_H */
