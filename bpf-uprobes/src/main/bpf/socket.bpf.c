// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* Socket I/O and connects of our own JVM through libc. See socket.h. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "socket.h"
#include "common.bpf.h"
#include "events.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct socket_config config = {};

HIST_BUCKET_SEARCH(duration_bucket, config.duration_ns)
HIST_BUCKET_SEARCH(size_bucket, config.size_bytes)

/*
 * The few kernel fields we read, relocated by libbpf against the running kernel's BTF (CO-RE):
 * the calling task's file table, a file's inode mode and private data, a socket's type and
 * sock, a sock's family and peer. They are read as plain loads through BTF-typed pointers
 * (bpf_get_current_task_btf, bpf_core_cast: the verifier makes each load fault-safe), which is
 * several times cheaper per field than a bpf_probe_read_kernel call; only the descriptor's
 * slot in the file table, an array the verifier cannot index, takes one.
 */
struct thread_struct {
	unsigned long fsbase;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct task_struct {
	struct files_struct *files;
	struct thread_struct thread;
} __attribute__((preserve_access_index));

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
} __attribute__((preserve_access_index));

struct file {
	unsigned int f_flags;
	struct inode *f_inode;
	void *private_data;
} __attribute__((preserve_access_index));

struct in6_addr {
	__u8 s6_addr[16];
};

struct sock_common {
	__be32 skc_daddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

struct socket {
	short type;
	struct sock *sk;
} __attribute__((preserve_access_index));

#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOL_SOCKET 1
#define SO_ERROR 4
#define EINPROGRESS 115
#define O_NONBLOCK 04000
/* A pending connect older than this is stale (its socket is long gone): not finished by it. */
#define PENDING_CONNECT_MAX_NS (600ULL * 1000000000ULL)

enum call_kind {
	CALL_IO = 0,
	CALL_CONNECT = 1,
	CALL_GETSOCKOPT = 2,
	CALL_LISTEN = 3,
};

/* Where the return probe finds the peer's address, for a datagram socket without a peer. */
enum address_at {
	ADDRESS_NONE = 0,
	ADDRESS_SOCKADDR = 1,	/* addr is a struct sockaddr * */
	ADDRESS_MSGHDR = 2,	/* addr is a struct msghdr *, whose first field is msg_name */
};

/* The call in flight on a thread. */
struct socket_call {
	__u64 start_ns;		/* 0: no call in flight */
	__u64 sp;		/* stack pointer at entry: the return's is 8 more (the return address popped) */
	__u64 sk;		/* struct sock *: connect, getsockopt */
	__u64 addr;		/* user pointer, see enum address_at; getsockopt: optval */
	struct socket_peer peer;
	__u32 kind;		/* enum call_kind */
	enum socket_direction direction;
	__u32 address_at;	/* enum address_at, read at return */
	__u32 waits_elsewhere;	/* 1: an outbound TCP socket without blocking, see socket_transmitted */
	__u64 socket_ino;	/* the socket's inode number, when waits_elsewhere */
};

/* What the probes keep per thread (kernel-private, in the thread's own task storage). */
struct socket_thread {
	struct socket_call call;
	__u32 resolving;	/* getaddrinfo calls in progress on this thread (nesting depth) */
	/* The buckets of this thread's previous I/O call, by direction: the next is often the same. */
	__u32 duration_bucket[SOCKET_DIRECTION_COUNT];
	__u32 size_bucket[SOCKET_DIRECTION_COUNT];
	__u32 pad;
};

/*
 * When the last transmit on an outbound non-blocking TCP socket began, by the socket's inode
 * number (unique among live sockets, and not reused soon, unlike a struct sock address). Such
 * a socket's application waits for the reply in epoll_wait or poll, not in the receive, so the
 * first receive after a transmit is timed from that transmit: the reply's wait, as on a blocking
 * socket, where the receive itself waits.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} socket_transmitted SEC(".maps");

/* A connect that returned EINPROGRESS (kernel-private, keyed by struct sock *). */
struct pending_connect {
	__u64 start_ns;
	struct socket_peer peer;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct socket_thread);
} socket_threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct pending_connect);
} socket_pending_connects SEC(".maps");

/*
 * Local TCP ports this JVM listens on (from listen(), and from /proc at attach): a connection to
 * one of them is inbound, and its peer is recorded without the client's (ephemeral) port.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u8);
} socket_listening SEC(".maps");

/* Peers with a series of their own, with their transport; Java sizes it to the bound. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct socket_peer);
	__type(value, enum socket_transport);
} socket_peers SEC(".maps");

/* Durations and sizes of successful I/O calls. Java sizes it; full: the event is dropped (and counted). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct socket_io_key);
	__type(value, struct socket_io_hists);
} socket_io SEC(".maps");

/* Durations of failed I/O calls, ns, by errno. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct socket_io_key);
	__type(value, struct hist);
} socket_io_failed SEC(".maps");

/* Durations of connects, ns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, struct socket_connect_key);
	__type(value, struct hist);
} socket_connect_duration SEC(".maps");

/* Never written: the zeroed value new entries start from (as large as the largest value). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct socket_io_hists);
} socket_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOCKET_PROBE_COUNT);
	__type(key, __u32);
	__type(value, struct probe_stats);
} socket_stats SEC(".maps");

/*
 * Keeps enum socket_probe in the object's BTF for the layout test. Not the map's key type: the kernel
 * takes an array map's BTF only with an integer key, and libbpf created the map again without it.
 */
const volatile enum socket_probe socket_probe_btf = 0;

/* The calling thread's own record; created on first use when create is set. 0 when none. */
static __always_inline struct socket_thread *thread_of(struct task_struct *task, bool create)
{
	return bpf_task_storage_get(&socket_threads, task, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline struct socket_thread *current_thread(bool create)
{
	return thread_of(bpf_get_current_task_btf(), create);
}

/*
 * The open file of descriptor fd of the calling task when it is a socket, else 0; -1 when the
 * file table could not be read (counted as an error: the call is not seen).
 */
static __always_inline struct file *socket_file_of_fd(struct task_struct *task, int fd)
{
	struct fdtable *fdt;
	struct file *file = 0;
	struct file **fds;

	if (fd < 0)
		return 0;
	fdt = task->files->fdt;
	if (!fdt || (unsigned int)fd >= fdt->max_fds)
		return 0;
	fds = fdt->fd;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return (struct file *)-1;
	if (!file)
		return 0;
	file = bpf_core_cast(file, struct file);
	if ((file->f_inode->i_mode & S_IFMT) != S_IFSOCK)
		return 0;
	return file;
}

static __always_inline void set_ipv4(struct socket_peer *peer, __be32 address)
{
	__builtin_memset(peer->address, 0, 10);
	peer->address[10] = 0xff;
	peer->address[11] = 0xff;
	__builtin_memcpy(&peer->address[12], &address, 4);
}

/*
 * The socket's transport and connected peer; false for families we do not count. *sk gets
 * the struct sock.
 */
static __always_inline bool peer_of_socket(struct socket *socket, struct socket_peer *peer, __u64 *sk_out)
{
	struct sock *sk = socket->sk;
	short type = socket->type;
	unsigned short family;

	if (!sk)
		return false;
	*sk_out = (__u64)sk;
	family = sk->__sk_common.skc_family;
	if (family == AF_UNIX) {
		peer->transport = SOCKET_TRANSPORT_UNIX;
		return true;
	}
	if (family != AF_INET && family != AF_INET6)
		return false;
	peer->transport = type == SOCK_STREAM ? SOCKET_TRANSPORT_TCP
			: type == SOCK_DGRAM ? SOCKET_TRANSPORT_UDP : SOCKET_TRANSPORT_OTHER;
	peer->port = bpf_ntohs(sk->__sk_common.skc_dport);
	if (peer->transport == SOCKET_TRANSPORT_TCP) {
		__u16 local = sk->__sk_common.skc_num;

		if (bpf_map_lookup_elem(&socket_listening, &local))
			peer->port = 0;	/* inbound: the client's port would only add series */
	}
	if (family == AF_INET) {
		set_ipv4(peer, sk->__sk_common.skc_daddr);
	} else if (bpf_core_field_exists(sk->__sk_common.skc_v6_daddr)) {
		__builtin_memcpy(peer->address, sk->__sk_common.skc_v6_daddr.s6_addr, 16);
	}
	return true;
}

/* struct sockaddr_in / sockaddr_in6, as far as we read them. */
struct user_sockaddr {
	__u16 family;
	__be16 port;
	__be32 ipv4_or_flowinfo;
	__u8 ipv6[16];
};

/* Fills peer's address and port from a sockaddr in user memory; false when unreadable. */
static __always_inline bool peer_from_sockaddr(__u64 user_addr, struct socket_peer *peer)
{
	struct user_sockaddr sa = {};

	if (!user_addr || bpf_probe_read_user(&sa, 8, (const void *)user_addr))
		return false;
	if (sa.family == AF_INET) {
		set_ipv4(peer, sa.ipv4_or_flowinfo);
	} else if (sa.family == AF_INET6) {
		if (bpf_probe_read_user(&sa, sizeof(sa), (const void *)user_addr))
			return false;
		__builtin_memcpy(peer->address, sa.ipv6, 16);
	} else {
		return false;
	}
	peer->port = bpf_ntohs(sa.port);
	return true;
}

/* The user pointer to the address the call reads or fills: for msghdr its msg_name. */
static __always_inline __u64 address_pointer(__u32 address_at, __u64 addr)
{
	__u64 name = 0;

	if (address_at == ADDRESS_SOCKADDR)
		return addr;
	if (address_at == ADDRESS_MSGHDR && addr)
		bpf_probe_read_user(&name, sizeof(name), (const void *)addr);
	return name;
}

/* Whether the socket's own state named the peer (a TCP socket always has one once connected). */
static __always_inline bool peer_known(const struct socket_peer *peer)
{
	return peer->port != 0 || peer->transport == SOCKET_TRANSPORT_UNIX || peer->transport == SOCKET_TRANSPORT_TCP;
}

/* A call's kind, direction and address_at packed into one argument of socket_enter. */
#define ENTRY_HOW(kind, direction, address_at) ((kind) | (direction) << 8 | (address_at) << 16)

/*
 * Entry of a call on a descriptor: records it for the return probe when fd is a socket of a
 * family we count and the thread is not inside getaddrinfo. how is ENTRY_HOW(kind, direction,
 * address_at) (a BPF function takes five arguments). A global function (see HIST_BUCKET_SEARCH):
 * verified once for every kind of call, where the eleven copies that uprobe_socket's dispatch
 * inlined cost the verifier about 30 ms of CPU at every start.
 */
__noinline int socket_enter(struct pt_regs *ctx, __u32 probe, int fd, __u32 how, __u64 addr)
{
	__u32 kind = how & 0xff, direction = (how >> 8) & 0xff, address_at = how >> 16;
	struct task_struct *task = bpf_get_current_task_btf();
	struct socket_thread *thread;
	struct socket_peer peer = {};
	struct file *file;
	__u64 sk = 0;

	counted(&socket_stats, probe);
	/* Most calls are on files: the descriptor is looked at first. */
	file = socket_file_of_fd(task, fd);
	if (file == (struct file *)-1) {
		count_error(&socket_stats, probe);
		return 0;
	}
	if (!file || !peer_of_socket(bpf_core_cast(file->private_data, struct socket), &peer, &sk))
		return 0;
	thread = thread_of(task, true);
	if (!thread) {
		count_dropped(&socket_stats, probe);
		return 0;
	}
	if (thread->resolving)
		return 0;
	/*
	 * connect: the peer is its argument (a UDP socket may still be connected to the previous
	 * one); a datagram sent to an address: that address.
	 */
	if (kind == CALL_CONNECT || (!peer_known(&peer) && direction == SOCKET_DIRECTION_TRANSMIT)) {
		peer_from_sockaddr(address_pointer(address_at, addr), &peer);
		address_at = ADDRESS_NONE;
	}
	thread->call.peer = peer;
	thread->call.sk = sk;
	thread->call.kind = kind;
	thread->call.direction = direction;
	thread->call.address_at = address_at;
	thread->call.addr = addr;
	/* Outbound (inbound ones have no peer port), and the application waits elsewhere. */
	thread->call.waits_elsewhere = kind == CALL_IO && peer.transport == SOCKET_TRANSPORT_TCP && peer.port
				       && (file->f_flags & O_NONBLOCK);
	thread->call.socket_ino = thread->call.waits_elsewhere ? file->f_inode->i_ino : 0;
	thread->call.sp = PT_REGS_SP(ctx);
	thread->call.start_ns = bpf_ktime_get_ns();
	/*
	 * A transmit is remembered at its entry, before its bytes can reach the peer: a reply
	 * received while the transmitting thread has not yet run its return probe (it lost the CPU
	 * on the way out of the system call) still finds it, and the wait it is timed from begins
	 * before the request left, never after.
	 */
	if (thread->call.waits_elsewhere && direction == SOCKET_DIRECTION_TRANSMIT)
		bpf_map_update_elem(&socket_transmitted, &thread->call.socket_ino, &thread->call.start_ns, BPF_ANY);
	return 0;
}

/*
 * The thread whose record holds the call this return belongs to; 0 when none was recorded
 * (not a socket, nested in getaddrinfo, entered before we attached). A record whose stack
 * pointer does not match is of a call whose return we never saw: dropped, and counted as an
 * error of this return.
 */
static __always_inline struct socket_thread *leave(struct pt_regs *ctx, enum socket_probe probe)
{
	struct socket_thread *thread = current_thread(false);

	if (!thread || !thread->call.start_ns)
		return 0;
	if (thread->call.sp + 8 != PT_REGS_SP(ctx)) {
		thread->call.start_ns = 0;
		count_error(&socket_stats, probe);
		return 0;
	}
	return thread;
}

/* errno of the current thread, after a libc call returned -1. */
static __always_inline __u32 current_errno(void)
{
	unsigned long fsbase;
	int err = 0;

	if (!config.errno_known)
		return SOCKET_ERROR_UNKNOWN;
	fsbase = bpf_get_current_task_btf()->thread.fsbase;
	if (!fsbase || bpf_probe_read_user(&err, sizeof(err), (const void *)(fsbase + config.errno_tp_offset)))
		return SOCKET_ERROR_UNKNOWN;
	return err > 0 && err < SOCKET_ERROR_UNKNOWN ? (__u32)err : SOCKET_ERROR_UNKNOWN;
}

/* The peer as recorded: itself when admitted (or now admitted), else the `other` peer. */
static __always_inline void bounded_peer(struct socket_peer *peer, enum socket_probe probe)
{
	enum socket_transport transport = peer->transport;

	if (map_get_or_init(&socket_peers, peer, &transport))
		return;
	__builtin_memset(peer, 0, sizeof(*peer));
	peer->other = 1;
	count_overflow(&socket_stats, probe);
}

/* The value under key in a bounded hash, created from socket_zero on first use; 0 when full. */
static __always_inline void *hist_of(void *map, const void *key)
{
	__u32 zero_key = 0;
	void *zero = bpf_map_lookup_elem(&socket_zero, &zero_key);

	return zero ? map_get_or_init(map, key, zero) : 0;
}

/*
 * For a socket whose application waits in epoll_wait or poll (waits_elsewhere), after a
 * receive that moved data: the first receive after a transmit (remembered at the transmit's
 * entry) is timed from it (from start when that is earlier, as when another thread transmitted
 * during the receive).
 */
static __always_inline __u64 waited_since(struct socket_call *call, __u32 direction, __u64 start)
{
	__u64 *transmitted;

	if (direction == SOCKET_DIRECTION_TRANSMIT)
		return start;
	transmitted = bpf_map_lookup_elem(&socket_transmitted, &call->socket_ino);
	if (!transmitted)
		return start;
	if (*transmitted < start)
		start = *transmitted;
	bpf_map_delete_elem(&socket_transmitted, &call->socket_ino);
	return start;
}

/* Never read: keeps the span record in BTF, where KernelLayoutTest checks its Java mirror. */
const volatile struct socket_event socket_event_layout = {};

/*
 * Sends a span record: what packs kind (bits 0-7), direction (8-15), the program's number (16-23)
 * and the errno (32-63). Callers check the threshold first, so that a fast call pays one compare.
 * Global (see HIST_BUCKET_SEARCH): verified once, not at each call site.
 */
__noinline int socket_span(const struct socket_peer *peer, __u64 start_ns, __u64 end_ns, __u64 what, __s64 bytes)
{
	struct probe_stats *stats;
	struct socket_event *e;

	if (!peer)
		return 0;
	stats = probe_stats_of(&socket_stats, (what >> 16) & 0xff);
	e = span_reserve(sizeof(*e), EVENT_SOURCE_SOCKET, what & 0xff, start_ns, end_ns, true, stats);
	if (!e)
		return 0;
	e->peer = *peer;
	e->direction = (what >> 8) & 0xff;
	e->error = what >> 32;
	e->bytes = bytes;
	span_submit(e, stats);
	return 0;
}

static __always_inline __u64 span_what(__u32 kind, __u32 direction, enum socket_probe probe, __u32 error)
{
	return kind | (direction & 0xff) << 8 | ((__u64)probe & 0xff) << 16 | (__u64)error << 32;
}

/* Return of an I/O call: its duration, its size, its error, by peer and direction. */
static __always_inline void io_return(struct socket_thread *thread, struct socket_call *call, long rc,
				      enum socket_probe probe)
{
	__u32 direction = call->direction & 1;
	struct socket_io_key key = {};
	__u64 now = bpf_ktime_get_ns();
	__u64 start = call->start_ns;
	struct socket_io_hists *hists;
	struct hist *h;

	if (rc >= 0 && call->address_at != ADDRESS_NONE && !peer_known(&call->peer))
		peer_from_sockaddr(address_pointer(call->address_at, call->addr), &call->peer);
	if (call->waits_elsewhere && rc > 0)
		start = waited_since(call, direction, start);
	key.peer = call->peer;
	key.direction = call->direction;
	key.error = rc < 0 ? current_errno() : 0;
	if (span_wanted(config.span_io_min_ns, now - start)) {
		struct socket_peer peer = call->peer;

		socket_span(&peer, start, now, span_what(SOCKET_EVENT_IO, direction, probe, key.error), rc);
	}
	/*
	 * A series exists only for an admitted peer: then the bound need not be looked at. Each
	 * lookup names its map itself: a call site that may see either map is not inlined.
	 */
	if (rc < 0) {
		h = bpf_map_lookup_elem(&socket_io_failed, &key);
		if (!h) {
			bounded_peer(&key.peer, probe);
			h = hist_of(&socket_io_failed, &key);
		}
		if (h)
			hist_add(h, duration_bucket, now - start);
		else
			count_dropped(&socket_stats, probe);
		return;
	}
	hists = bpf_map_lookup_elem(&socket_io, &key);
	if (!hists) {
		bounded_peer(&key.peer, probe);
		hists = hist_of(&socket_io, &key);
	}
	if (!hists) {
		count_dropped(&socket_stats, probe);
		return;
	}
	hist_add_near(&hists->duration, &config.duration_ns, duration_bucket, now - start,
		      &thread->duration_bucket[direction]);
	hist_add_near(&hists->size, &config.size_bytes, size_bucket, (__u64)rc, &thread->size_bucket[direction]);
}

static __always_inline void record_connect(struct socket_peer *peer, __u32 error, __u64 start_ns, __u64 end_ns,
					   enum socket_probe probe)
{
	struct socket_connect_key key = {};
	__u64 duration_ns = end_ns - start_ns;
	struct hist *h;

	if (span_wanted(config.span_connect_min_ns, duration_ns)
	    || (error && config.span_connect_min_ns != SPANS_OFF)) {
		struct socket_peer span_peer = *peer;

		socket_span(&span_peer, start_ns, end_ns, span_what(SOCKET_EVENT_CONNECT, 0, probe, error), 0);
	}
	key.peer = *peer;
	bounded_peer(&key.peer, probe);
	key.error = error;
	h = hist_of(&socket_connect_duration, &key);
	if (h)
		hist_add(h, duration_bucket, duration_ns);
	else
		count_dropped(&socket_stats, probe);
}

/* Return of connect: its result, or, for EINPROGRESS, a pending connect of the socket. */
static __always_inline void connect_return(struct socket_call *call, int rc)
{
	struct pending_connect pending = {};
	__u64 now = bpf_ktime_get_ns();
	__u32 error = rc < 0 ? current_errno() : 0;

	if (error == EINPROGRESS) {
		pending.start_ns = call->start_ns;
		pending.peer = call->peer;
		if (bpf_map_update_elem(&socket_pending_connects, &call->sk, &pending, BPF_ANY))
			count_dropped(&socket_stats, SOCKET_PROBE_CONNECT);
		return;
	}
	bpf_map_delete_elem(&socket_pending_connects, &call->sk);
	record_connect(&call->peer, error, call->start_ns, now, SOCKET_PROBE_CONNECT);
}

/* Return of getsockopt(SOL_SOCKET, SO_ERROR): the end of the socket's pending connect, if any. */
static __always_inline void getsockopt_return(struct socket_call *call, int rc)
{
	struct pending_connect *pending;
	__u64 now = bpf_ktime_get_ns();
	__u64 start;
	int error = 0;

	if (rc != 0)
		return;
	pending = bpf_map_lookup_elem(&socket_pending_connects, &call->sk);
	if (!pending)
		return;
	start = pending->start_ns;
	call->peer = pending->peer;
	bpf_map_delete_elem(&socket_pending_connects, &call->sk);
	if (now - start > PENDING_CONNECT_MAX_NS)
		return;
	if (bpf_probe_read_user(&error, sizeof(error), (const void *)call->addr)) {
		count_error(&socket_stats, SOCKET_PROBE_GETSOCKOPT);
		return;
	}
	if (error == EINPROGRESS)
		return;	/* still in progress: not an answer yet */
	record_connect(&call->peer, error > 0 ? (__u32)error : 0, start, now, SOCKET_PROBE_GETSOCKOPT);
}

/* Return of listen: once it succeeded, connections to its port are inbound. */
static __always_inline void listen_return(struct socket_call *call, int rc)
{
	struct sock *sk = (struct sock *)call->sk;
	__u16 port;
	__u8 one = 1;

	if (rc != 0)
		return;
	port = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (port && bpf_map_update_elem(&socket_listening, &port, &one, BPF_ANY))
		count_dropped(&socket_stats, SOCKET_PROBE_LISTEN);
}

/* getaddrinfo: its own traffic to name servers is the DNS family's, not counted here. */
static __always_inline void resolving_enter(void)
{
	struct socket_thread *thread = current_thread(true);

	if (thread)
		thread->resolving++;
	else
		count_dropped(&socket_stats, SOCKET_PROBE_GETADDRINFO);
}

static __always_inline void resolving_leave(void)
{
	struct socket_thread *thread = current_thread(false);

	if (thread && thread->resolving)
		thread->resolving--;
}

/*
 * The entry of every probed function, told apart by the attach cookie (its enum socket_probe
 * value), so that the family needs one link for all entries and one for all returns: the
 * kernel takes about 85 ms to remove each link. Arguments are the function's own:
 *   read/readv/recv/write/writev/send(fd, ...), sendfile(out_fd, ...)
 *   recvfrom(fd, buf, len, flags, src, ...), sendto(fd, buf, len, flags, dest, ...)
 *   recvmsg/sendmsg(fd, msg, flags), connect(fd, addr, len), listen(fd, backlog)
 *   getsockopt(fd, level, name, value, len), getaddrinfo(node, service, hints, res)
 */
SEC("uprobe")
int uprobe_socket(struct pt_regs *ctx)
{
	__u64 probe = bpf_get_attach_cookie(ctx);
	int fd = (int)PT_REGS_PARM1(ctx);

	if (probe >= SOCKET_PROBE_COUNT || !is_our_process(&config.process))
		return 0;
	switch (probe) {
	case SOCKET_PROBE_READ:
	case SOCKET_PROBE_READV:
	case SOCKET_PROBE_RECV:
		socket_enter(ctx, probe, fd, ENTRY_HOW(CALL_IO, SOCKET_DIRECTION_RECEIVE, ADDRESS_NONE), 0);
		break;
	case SOCKET_PROBE_RECVFROM:
		socket_enter(ctx, probe, fd, ENTRY_HOW(CALL_IO, SOCKET_DIRECTION_RECEIVE, ADDRESS_SOCKADDR), PT_REGS_PARM5(ctx));
		break;
	case SOCKET_PROBE_RECVMSG:
		socket_enter(ctx, probe, fd, ENTRY_HOW(CALL_IO, SOCKET_DIRECTION_RECEIVE, ADDRESS_MSGHDR), PT_REGS_PARM2(ctx));
		break;
	case SOCKET_PROBE_WRITE:
	case SOCKET_PROBE_WRITEV:
	case SOCKET_PROBE_SEND:
	case SOCKET_PROBE_SENDFILE:
		socket_enter(ctx, probe, fd, ENTRY_HOW(CALL_IO, SOCKET_DIRECTION_TRANSMIT, ADDRESS_NONE), 0);
		break;
	case SOCKET_PROBE_SENDTO:
		socket_enter(ctx, probe, fd, ENTRY_HOW(CALL_IO, SOCKET_DIRECTION_TRANSMIT, ADDRESS_SOCKADDR), PT_REGS_PARM5(ctx));
		break;
	case SOCKET_PROBE_SENDMSG:
		socket_enter(ctx, probe, fd, ENTRY_HOW(CALL_IO, SOCKET_DIRECTION_TRANSMIT, ADDRESS_MSGHDR), PT_REGS_PARM2(ctx));
		break;
	case SOCKET_PROBE_CONNECT:
		socket_enter(ctx, probe, fd, ENTRY_HOW(CALL_CONNECT, SOCKET_DIRECTION_TRANSMIT, ADDRESS_SOCKADDR), PT_REGS_PARM2(ctx));
		break;
	case SOCKET_PROBE_GETSOCKOPT:
		if ((int)PT_REGS_PARM2(ctx) != SOL_SOCKET || (int)PT_REGS_PARM3(ctx) != SO_ERROR) {
			counted(&socket_stats, probe);
			break;
		}
		socket_enter(ctx, probe, fd, ENTRY_HOW(CALL_GETSOCKOPT, SOCKET_DIRECTION_TRANSMIT, ADDRESS_NONE), PT_REGS_PARM4(ctx));
		break;
	case SOCKET_PROBE_LISTEN:
		socket_enter(ctx, probe, fd, ENTRY_HOW(CALL_LISTEN, SOCKET_DIRECTION_RECEIVE, ADDRESS_NONE), 0);
		break;
	case SOCKET_PROBE_GETADDRINFO:
		counted(&socket_stats, probe);
		resolving_enter();
		break;
	}
	return 0;
}

/* The return of every probed function; what to do is in the call its entry recorded. */
SEC("uretprobe")
int uretprobe_socket(struct pt_regs *ctx)
{
	__u64 probe = bpf_get_attach_cookie(ctx);
	long rc = PT_REGS_RC(ctx);
	struct socket_thread *thread;
	struct socket_call *call;

	if (probe >= SOCKET_PROBE_COUNT || !is_our_process(&config.process))
		return 0;
	if (probe == SOCKET_PROBE_GETADDRINFO) {
		resolving_leave();
		return 0;
	}
	thread = leave(ctx, probe);
	if (!thread)
		return 0;
	/* The record is used in place (the thread is in this program), then marked done. */
	call = &thread->call;
	switch (call->kind) {
	case CALL_IO:
		io_return(thread, call, rc, probe);
		break;
	case CALL_CONNECT:
		connect_return(call, (int)rc);
		break;
	case CALL_GETSOCKOPT:
		getsockopt_return(call, (int)rc);
		break;
	case CALL_LISTEN:
		listen_return(call, (int)rc);
		break;
	}
	call->start_ns = 0;
	return 0;
}
