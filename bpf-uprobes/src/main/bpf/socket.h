/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Socket family: records shared between socket.bpf.c and the Java side (SocketProbes,
 * SocketStructs).
 *
 * Entry and return probes on our libc's socket I/O functions (read, readv, recv, recvfrom,
 * recvmsg, write, writev, send, sendto, sendmsg, sendfile), connect, getsockopt and listen. The entry
 * looks the descriptor up in the calling task's own file table: only sockets of the families
 * INET, INET6 and UNIX count; files, pipes and everything else are left at once. The peer comes
 * from the kernel's socket itself (so sockets opened before the probes were attached, or
 * accepted ones, need no probe of their own), or, for a datagram socket without a connected
 * peer, from the address argument (sendto, sendmsg at entry; recvfrom, recvmsg at return).
 * No program reads the data.
 *
 * A call that fails returns -1 and sets errno, which the return probe reads from the thread's
 * TLS at the offset Java measured (errno_tp_offset, from the thread pointer).
 *
 * connect: a blocking connect is timed from call to return. A non-blocking one that returns
 * EINPROGRESS is remembered by socket; it ends when the process asks for its result with
 * getsockopt(SOL_SOCKET, SO_ERROR), which is how the JDK finishes every pending connect.
 *
 * Durations are those of the calls, except on an outbound TCP socket that does not block
 * (O_NONBLOCK: selectors, HttpClient, a Socket with a read timeout), whose application waits for
 * a reply in epoll_wait or poll: there the first receive with data after a transmit is timed
 * from that transmit's return, the wait a blocking receive would have measured itself.
 *
 * Inbound TCP connections (to a port this JVM listens on: seen in listen(), or in /proc when the
 * probes were attached) have peers without a port: the clients' ephemeral ports would make a
 * series per connection.
 *
 * Calls nested in getaddrinfo (the resolver's own traffic to name servers) are not counted here;
 * the DNS family counts the lookup.
 *
 * Peers are bounded: the first `peer limit` peers get their own series, later ones count under
 * the `other` peer (SOCKET_PEER_OTHER) and in probe_stats.overflow.
 */
#ifndef JEB_SOCKET_H
#define JEB_SOCKET_H

#include "hist.h"
#include "events.h"

/*
 * The probed functions, in the order of the probe_stats array. Two programs serve them all
 * (uprobe_socket, uretprobe_socket); each attachment carries its function's value as cookie.
 */
enum socket_probe {
	SOCKET_PROBE_READ = 0,
	SOCKET_PROBE_READV = 1,
	SOCKET_PROBE_RECV = 2,
	SOCKET_PROBE_RECVFROM = 3,
	SOCKET_PROBE_RECVMSG = 4,
	SOCKET_PROBE_WRITE = 5,
	SOCKET_PROBE_WRITEV = 6,
	SOCKET_PROBE_SEND = 7,
	SOCKET_PROBE_SENDTO = 8,
	SOCKET_PROBE_SENDMSG = 9,
	SOCKET_PROBE_SENDFILE = 10,
	SOCKET_PROBE_CONNECT = 11,
	SOCKET_PROBE_GETSOCKOPT = 12,
	SOCKET_PROBE_GETADDRINFO = 13,
	SOCKET_PROBE_LISTEN = 14,
	SOCKET_PROBE_COUNT = 15,
};

/* network.io.direction */
enum socket_direction {
	SOCKET_DIRECTION_RECEIVE = 0,
	SOCKET_DIRECTION_TRANSMIT = 1,
	SOCKET_DIRECTION_COUNT = 2,
};

/* network.transport */
enum socket_transport {
	SOCKET_TRANSPORT_TCP = 0,	/* INET/INET6 stream */
	SOCKET_TRANSPORT_UDP = 1,	/* INET/INET6 datagram */
	SOCKET_TRANSPORT_UNIX = 2,	/* UNIX, any type */
	SOCKET_TRANSPORT_OTHER = 3,	/* INET/INET6 raw, SCTP, ... */
	SOCKET_TRANSPORT_COUNT = 4,
};

/* The error of a failed call whose errno could not be read. */
#define SOCKET_ERROR_UNKNOWN 4095

/* Configuration, in .rodata, set by Java between open and load. */
struct socket_config {
	struct process_filter process;
	struct hist_layout duration_ns;
	struct hist_layout size_bytes;
	__s64 errno_tp_offset;		/* &errno minus the thread pointer, the same in every thread */
	__u32 errno_known;		/* 0: errno_tp_offset unknown, failures count as SOCKET_ERROR_UNKNOWN */
	__u32 pad;
	/* Receives and transmits lasting at least this long become spans; SPANS_OFF: none. */
	__u64 span_io_min_ns;
	/* Connects lasting at least this long, and every failed one, become spans; SPANS_OFF: none. */
	__u64 span_connect_min_ns;
};
_Static_assert(sizeof(struct socket_config) == 24 + 2 * sizeof(struct hist_layout) + 32,
	       "socket_config padding");

/*
 * A peer. address is IPv6, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), zero for UNIX sockets
 * and unknown peers; port in host byte order, 0 when there is none or the connection is inbound.
 */
struct socket_peer {
	__u8 address[16];
	__u16 port;
	__u8 transport;		/* enum socket_transport */
	__u8 other;		/* 1: the overflow peer, every other field zero */
	__u32 pad;
};
_Static_assert(sizeof(struct socket_peer) == 24, "socket_peer padding");

/* Key of socket_io (whose error is always 0) and socket_io_failed. */
struct socket_io_key {
	struct socket_peer peer;
	__u32 direction;	/* enum socket_direction */
	__u32 error;		/* errno of a failed call (or SOCKET_ERROR_UNKNOWN), 0 for success */
};
_Static_assert(sizeof(struct socket_io_key) == 32, "socket_io_key padding");

/*
 * Value of socket_io: a successful call's duration and size together, so that recording a call
 * takes one map lookup (about 25 ns each here). Failed calls have no size: socket_io_failed
 * keeps their durations alone.
 */
struct socket_io_hists {
	struct hist duration;	/* ns */
	struct hist size;	/* bytes */
};
_Static_assert(sizeof(struct socket_io_hists) == 2 * sizeof(struct hist), "socket_io_hists padding");

/* Key of socket_connect_duration. */
struct socket_connect_key {
	struct socket_peer peer;
	__u32 error;		/* errno (or SO_ERROR) of a failed connect, 0 for success */
	__u32 pad;
};
_Static_assert(sizeof(struct socket_connect_key) == 32, "socket_connect_key padding");

/* Kinds of socket span (event_header.kind). */
enum socket_event_kind {
	SOCKET_EVENT_IO = 1,		/* a receive or transmit */
	SOCKET_EVENT_CONNECT = 2,
};

/* A span record (events.h): one slow call or connect, or a failed connect, with its peer. */
struct socket_event {
	struct event_header header;
	struct socket_peer peer;	/* as the call saw it, never folded into `other` */
	__u32 direction;		/* enum socket_direction (SOCKET_EVENT_IO) */
	__u32 error;			/* errno, 0 for success */
	__s64 bytes;			/* what the call returned (SOCKET_EVENT_IO) */
};
_Static_assert(sizeof(struct socket_event) == sizeof(struct event_header) + 24 + 16, "socket_event padding");

#endif /* JEB_SOCKET_H */
