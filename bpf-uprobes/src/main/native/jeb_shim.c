// SPDX-License-Identifier: Apache-2.0
// The C surface between the JNI binding (jeb_jni.c) and libbpf, linked into libbpf-bundled.so:
// libbpf's printf-style log callback (va_list), libbpf's option structs, and the few system
// calls Java has no way to make. Every function returns 0 or a negative errno captured right
// after the failing call.
#define _GNU_SOURCE /* dlinfo, RTLD_DI_TLS_MODID */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "jeb_shim.h"

static jeb_log_fn log_fn;
/* The most verbose level handed to log_fn; libbpf's debug messages (over a thousand per start)
 * are neither formatted nor handed over unless someone listens for them. */
static volatile int log_max_level = LIBBPF_WARN;

static int forward_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char small[512];
	va_list copy;
	int n;

	if (!log_fn || (int)level > log_max_level)
		return 0;
	va_copy(copy, args);
	n = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n < 0)
		return 0;
	if ((size_t)n < sizeof(small)) {
		log_fn(level, small);
		return n;
	}
	/* Verifier logs arrive as one long message. */
	char *big = malloc((size_t)n + 1);
	if (!big)
		return 0;
	vsnprintf(big, (size_t)n + 1, fmt, args);
	log_fn(level, big);
	free(big);
	return n;
}

/* Routes libbpf's messages to fn; NULL silences libbpf entirely. */
void jeb_set_log(jeb_log_fn fn)
{
	log_fn = fn;
	libbpf_set_print(forward_log);
}

/* Ours, in libbpf.c (libbpf-vmlinux-btf-shared.patch). */
void libbpf_jeb_share_vmlinux_btf(bool share);

void jeb_share_vmlinux_btf(int share)
{
	libbpf_jeb_share_vmlinux_btf(share != 0);
}

void jeb_set_log_level(int max_level)
{
	log_max_level = max_level;
}

int jeb_open(const void *buf, size_t size, const char *name, struct bpf_object **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
	struct bpf_object *obj = bpf_object__open_mem(buf, size, &opts);
	int err = errno;

	*out = obj;
	return obj ? 0 : -(err ? err : EINVAL);
}

static struct bpf_map *rodata_map(struct bpf_object *obj)
{
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t len = strlen(name);
		if (bpf_map__is_internal(map) && len >= 7 && strcmp(name + len - 7, ".rodata") == 0)
			return map;
	}
	return NULL;
}

/* Size of the object's .rodata section (its `const volatile` configuration), or -ENOENT. */
long jeb_rodata_size(struct bpf_object *obj)
{
	struct bpf_map *map = rodata_map(obj);
	return map ? (long)bpf_map__value_size(map) : -ENOENT;
}

/* Sets .rodata between open and load; size must be the section's size exactly. */
int jeb_set_rodata(struct bpf_object *obj, const void *data, size_t size)
{
	struct bpf_map *map = rodata_map(obj);

	if (!map)
		return -ENOENT;
	if (bpf_map__value_size(map) != size)
		return -EMSGSIZE;
	return bpf_map__set_initial_value(map, data, size);
}

int jeb_attach_usdt(struct bpf_program *prog, int pid, const char *binary, const char *provider,
		    const char *name, struct bpf_link **out)
{
	struct bpf_link *link = bpf_program__attach_usdt(prog, pid, binary, provider, name, NULL);
	int err = errno;

	*out = link;
	return link ? 0 : -(err ? err : EINVAL);
}

/*
 * func may be NULL (then offset is a file offset); otherwise offset is relative to func. The
 * program reads cookie with bpf_get_attach_cookie().
 */
int jeb_attach_uprobe(struct bpf_program *prog, int pid, const char *binary, const char *func,
		      size_t offset, int retprobe, unsigned long long cookie, struct bpf_link **out)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = func, .retprobe = retprobe != 0, .bpf_cookie = cookie);
	struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, pid, binary, offset, &opts);
	int err = errno;

	*out = link;
	return link ? 0 : -(err ? err : EINVAL);
}

/* Runs a program of a type that supports BPF_PROG_TEST_RUN (e.g. SEC("syscall")) once. */
int jeb_prog_test_run(int prog_fd, void *ctx, unsigned int ctx_size, int *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = ctx_size);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err)
		return err < 0 ? err : -errno;
	*retval = (int)opts.retval;
	return 0;
}

/*
 * Loads the smallest program of a type ("r0 = 0; exit") and unloads it: 1 when the kernel
 * accepts it, else the negative errno (-EPERM without privileges, -EINVAL when the type is
 * unknown). libbpf_probe_bpf_prog_type folds every failure into 0, losing the reason.
 */
int jeb_probe_prog_load(int prog_type)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load((enum bpf_prog_type)prog_type, NULL, "GPL", insns, 2, NULL);

	if (fd < 0)
		return fd;
	close(fd);
	return 1;
}

int jeb_strerror(int err, char *buf, size_t size)
{
	return libbpf_strerror(err, buf, size);
}

/*
 * Sends a signal to a process: 0, or the negative errno (-ESRCH no such process, -EPERM another
 * user's). The command line uses it to wake a JVM's attach listener (SIGQUIT).
 */
int jeb_kill(int pid, int sig)
{
	return kill((pid_t)pid, sig) == 0 ? 0 : -errno;
}

/*
 * Where errno lives relative to the thread pointer (%fs:0 on x86-64, the TCB's pointer to
 * itself): glibc keeps errno in its static TLS block, at the same offset from the thread pointer
 * in every thread. The socket probes read a failed call's errno from there. 0 when unknown.
 */
long jeb_errno_tp_offset(void)
{
#if defined(__x86_64__)
	unsigned long tp;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return (long)((unsigned long)&errno - tp);
#else
	return 0;
#endif
}

/*
 * The local ports of this process's listening TCP sockets (IPv4 and IPv6), found among its own
 * descriptors: at most max of them into ports; the count, or the negative errno. Asks each
 * socket itself (SO_ACCEPTCONN, SO_PROTOCOL, getsockname) instead of reading /proc/net/tcp*, which
 * lists every socket of the network namespace: thousands of lines on a busy host, all parsed at
 * each start. A descriptor closed or reused meanwhile fails a check and is skipped.
 */
int jeb_listening_tcp_ports(int *ports, int max)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	int count = 0, own;

	if (!dir)
		return -errno;
	own = dirfd(dir);
	while ((entry = readdir(dir)) != NULL) {
		struct sockaddr_storage address;
		socklen_t length;
		struct stat st;
		char *end;
		long fd = strtol(entry->d_name, &end, 10);
		int listening = 0, protocol = 0, port = 0;

		if (entry->d_name[0] < '0' || entry->d_name[0] > '9' || *end || fd == own)
			continue;
		if (fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode))
			continue;
		length = sizeof(listening);
		if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || !listening)
			continue;
		length = sizeof(protocol);
		if (getsockopt((int)fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &length) != 0 || protocol != IPPROTO_TCP)
			continue;
		length = sizeof(address);
		if (getsockname((int)fd, (struct sockaddr *)&address, &length) != 0)
			continue;
		if (address.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *)&address)->sin_port);
		else if (address.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
		if (port > 0 && count < max)
			ports[count++] = port;
	}
	closedir(dir);
	return count;
}

/*
 * Whether the kernel has uprobe_multi links (Linux 6.6): one link, one removal, for many
 * uprobes. A program of that attach type pointed at "/" (a directory, not an ELF file) fails with
 * EBADF only on a kernel that knows the link type. 1 yes, 0 no, or the negative errno of the load.
 */
int jeb_probe_uprobe_multi(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, load_opts, .expected_attach_type = BPF_TRACE_UPROBE_MULTI);
	LIBBPF_OPTS(bpf_link_create_opts, link_opts);
	unsigned long offset = 0;
	int prog_fd, link_fd, err;

	prog_fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &load_opts);
	if (prog_fd < 0)
		return errno == EINVAL ? 0 : -errno;
	link_opts.uprobe_multi.path = "/";
	link_opts.uprobe_multi.offsets = &offset;
	link_opts.uprobe_multi.cnt = 1;
	link_fd = bpf_link_create(prog_fd, -1, BPF_TRACE_UPROBE_MULTI, &link_opts);
	err = errno;
	if (link_fd >= 0)
		close(link_fd);
	close(prog_fd);
	return link_fd < 0 && err == EBADF ? 1 : 0;
}

/* Before load: the program will be attached with uprobe_multi links. */
int jeb_use_uprobe_multi(struct bpf_program *prog)
{
	return bpf_program__set_expected_attach_type(prog, BPF_TRACE_UPROBE_MULTI);
}

/*
 * One uprobe_multi link for process pid only: at cnt places of binary (file offsets; the program
 * reads each place's cookie with bpf_get_attach_cookie()), or, when func is given (and cnt is 0),
 * at the entry of the function of that exact name, which libbpf finds in the binary's symbols.
 */
int jeb_attach_uprobe_multi(struct bpf_program *prog, int pid, const char *binary, const char *func,
			    const unsigned long *offsets, const unsigned long long *cookies, size_t cnt, int retprobe,
			    struct bpf_link **out)
{
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts, .offsets = cnt ? offsets : NULL,
		    .cookies = cnt ? (const __u64 *)cookies : NULL, .cnt = cnt, .retprobe = retprobe != 0);
	struct bpf_link *link = bpf_program__attach_uprobe_multi(prog, pid, binary, func, &opts);
	int err = errno;

	*out = link;
	return link ? 0 : -(err ? err : EINVAL);
}

/*
 * The span ring buffer (events.h): one BPF_MAP_TYPE_RINGBUF of `bytes` (a power of two, at least
 * a page) that every family's object reuses. Its descriptor, or the negative errno.
 */
int jeb_ring_create(unsigned int bytes)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "jeb_events", 0, 0, bytes, NULL);

	return fd >= 0 ? fd : -errno;
}

/* An array of `entries` values of value_size bytes (u32 keys) for BPF objects to share. */
int jeb_array_create(const char *name, unsigned int value_size, unsigned int entries)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(uint32_t), value_size, entries, NULL);

	return fd >= 0 ? fd : -errno;
}

/*
 * The thread pointer (%fs:0) minus the address of the calling thread's instance of the TLS
 * variable `symbol` of the library loaded from path (dlsym allocates the instance if this thread
 * had none); 0 when unknown. In a module of static TLS this is the same in every thread.
 */
long jeb_tls_tp_offset(const char *path, const char *symbol)
{
#if defined(__x86_64__)
	unsigned long tp;
	void *address;
	void *handle = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);

	if (!handle)
		return 0;
	address = dlsym(handle, symbol);
	dlclose(handle);
	if (!address)
		return 0;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return (long)(tp - (unsigned long)address);
#else
	(void)path;
	(void)symbol;
	return 0;
#endif
}

/*
 * Looks names up in the symbol tables of type sh_type (SHT_SYMTAB or SHT_DYNSYM) of the 64-bit
 * little-endian ELF file at path, as ElfFile's own scan does: for each name not found yet
 * (found[i] == 0), the first entry named exactly so, in section then entry order, undefined
 * entries skipped when defined_only; its value, size, info and section index go to
 * out[4 * i .. 4 * i + 3] and found[i] becomes 1. The file is mapped for the scan only: libjvm's
 * tables (5 MB) never enter the Java heap. Returns how many names were found, or a negative errno
 * (-ENOEXEC: not such an ELF file, or a table lying outside it).
 */
int jeb_elf_symbols(const char *path, unsigned int sh_type, int defined_only, const char *const *names,
		    int count, unsigned long long *out, unsigned char *found)
{
	size_t lengths[64];
	const unsigned char *base;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sections;
	struct stat st;
	size_t size;
	void *map;
	int fd, left = 0, hits = 0, err = 0;

	if (count < 0 || count > (int)(sizeof(lengths) / sizeof(lengths[0])))
		return -EINVAL;
	for (int i = 0; i < count; i++) {
		lengths[i] = strlen(names[i]);
		left += !found[i];
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	size = (size_t)st.st_size;
	if (size < sizeof(Elf64_Ehdr)) {
		close(fd);
		return -ENOEXEC;
	}
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	err = map == MAP_FAILED ? -errno : 0;
	close(fd);
	if (err)
		return err;
	base = map;
	eh = map;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > size || eh->e_shnum > (size - eh->e_shoff) / sizeof(Elf64_Shdr)) {
		munmap(map, size);
		return -ENOEXEC;
	}
	sections = (const Elf64_Shdr *)(base + eh->e_shoff);
	for (unsigned int t = 0; t < eh->e_shnum && left > 0; t++) {
		const Elf64_Shdr *table = &sections[t], *strings;
		const Elf64_Sym *symbols;
		const char *names_at;
		size_t entries;

		if (table->sh_type != sh_type)
			continue;
		if (table->sh_link >= eh->e_shnum) {
			err = -ENOEXEC;
			break;
		}
		strings = &sections[table->sh_link];
		if (table->sh_offset > size || table->sh_size > size - table->sh_offset ||
		    strings->sh_offset > size || strings->sh_size > size - strings->sh_offset) {
			err = -ENOEXEC;
			break;
		}
		symbols = (const Elf64_Sym *)(base + table->sh_offset);
		entries = table->sh_size / sizeof(Elf64_Sym);
		names_at = (const char *)(base + strings->sh_offset);
		for (size_t e = 0; e < entries && left > 0; e++) {
			const Elf64_Sym *sym = &symbols[e];
			const char *name;
			size_t room;

			if (sym->st_name == 0 || sym->st_name >= strings->sh_size)
				continue;
			if (defined_only && sym->st_shndx == SHN_UNDEF)
				continue;
			name = names_at + sym->st_name;
			room = strings->sh_size - sym->st_name;
			for (int i = 0; i < count; i++) {
				if (found[i] || lengths[i] >= room || name[0] != names[i][0] ||
				    memcmp(name, names[i], lengths[i]) || name[lengths[i]] != 0)
					continue;
				out[4 * i] = sym->st_value;
				out[4 * i + 1] = sym->st_size;
				out[4 * i + 2] = sym->st_info;
				out[4 * i + 3] = sym->st_shndx;
				found[i] = 1;
				left--;
				hits++;
				break;
			}
		}
	}
	munmap(map, size);
	return err ? err : hits;
}

static int count_adds(struct dl_phdr_info *info, size_t size, void *data)
{
	if (size >= offsetof(struct dl_phdr_info, dlpi_adds) + sizeof(info->dlpi_adds))
		*(unsigned long long *)data = info->dlpi_adds;
	return 1; /* the counter is the same in every entry: the first one says it */
}

/*
 * How many objects the dynamic loader has loaded into this process so far (dlpi_adds): a cheap
 * way to know whether anything was loaded since the last look, without reading /proc. 0: unknown.
 */
long jeb_loaded_objects(void)
{
	unsigned long long adds = 0;

	dl_iterate_phdr(count_adds, &adds);
	return (long)adds;
}

struct tls_objects {
	char *out;
	size_t size;
	size_t used;
};

static int list_tls_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct tls_objects *list = data;
	int n;

	if (size < offsetof(struct dl_phdr_info, dlpi_tls_modid) + sizeof(info->dlpi_tls_modid)
	    || info->dlpi_tls_modid == 0 || !info->dlpi_name || info->dlpi_name[0] != '/')
		return 0;
	n = snprintf(list->out + list->used, list->size - list->used, "%zu\t%s\n", info->dlpi_tls_modid,
		     info->dlpi_name);
	if (n < 0 || (size_t)n >= list->size - list->used)
		return 1; /* full: what fits is listed */
	list->used += (size_t)n;
	return 0;
}

/*
 * The loaded objects that have TLS, as lines "<glibc TLS module id>\t<path>\n" into out (at
 * most size bytes, NUL-terminated); the bytes written. Libraries only (the executable has no
 * path here).
 */
long jeb_tls_objects(char *out, size_t size)
{
	struct tls_objects list = { .out = out, .size = size, .used = 0 };

	if (size == 0)
		return 0;
	out[0] = 0;
	dl_iterate_phdr(list_tls_object, &list);
	return (long)list.used;
}

/*
 * Our writer of OpenTelemetry Thread Context (OTEP 4947) lives in libjeb-threadctx.so (see
 * jeb_threadctx.c), loaded here RTLD_LOCAL: a pointer defined in a library loaded RTLD_GLOBAL
 * would capture the references of any other writer loaded later. Java
 * points each publishing thread at a record of its own once (jeb_thread_ctx_bind), then writes
 * that record in place, clearing its `valid` byte around each change: no call into C per change.
 */
static void (*thread_ctx_bind)(void *record);
static void *(*thread_ctx_current)(void);

/* Loads the writer's library from path; 0 or a negative errno (EINVAL: not that library). */
int jeb_thread_ctx_open(const char *path)
{
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	void (*bind)(void *);
	void *(*current)(void);

	if (!handle)
		return -ENOENT;
	*(void **)&bind = dlsym(handle, "jeb_thread_ctx_bind");
	*(void **)&current = dlsym(handle, "jeb_thread_ctx_current");
	if (!bind || !current) {
		dlclose(handle);
		return -EINVAL;
	}
	thread_ctx_current = current;
	thread_ctx_bind = bind;
	return 0;
}

/* Points the calling thread's otel_thread_ctx_v1 at record (NULL: none); -ENOENT before open. */
int jeb_thread_ctx_bind(void *record)
{
	if (!thread_ctx_bind)
		return -ENOENT;
	thread_ctx_bind(record);
	return 0;
}

/* The calling thread's otel_thread_ctx_v1; NULL before open. */
void *jeb_thread_ctx_current(void)
{
	return thread_ctx_current ? thread_ctx_current() : NULL;
}

/*
 * Copies `size` bytes of the record the calling thread's otel_thread_ctx_v1 of the library loaded
 * from path points at (another writer's: dlsym gives this thread's instance of a TLS variable):
 * 0 copied, 1 the pointer is NULL (no record), -ENOENT no such library or symbol. A thread
 * writes only its own record, and this reads it on that thread: no update can be half seen.
 */
int jeb_thread_ctx_read(const char *path, void *out, size_t size)
{
	void *handle = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
	void **slot;
	void *record;

	if (!handle)
		return -ENOENT;
	slot = dlsym(handle, "otel_thread_ctx_v1");
	dlclose(handle);
	if (!slot)
		return -ENOENT;
	record = *(void *volatile *)slot;
	if (!record)
		return 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	memcpy(out, record, size);
	return 0;
}

/* An eventfd (non-blocking) that wakes jeb_ring_wait; the descriptor or the negative errno. */
int jeb_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	return fd >= 0 ? fd : -errno;
}

int jeb_eventfd_signal(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

int jeb_close(int fd)
{
	return close(fd) == 0 ? 0 : -errno;
}

/*
 * The exit hand-off. The kernel removes a uprobe only after grace periods: closing the links
 * side by side takes about 100 ms here, and a process that exits with its links open pays them
 * one after another inside its own exit (700-800 ms). So at the JVM's exit a helper task takes
 * the last references: it shares the JVM's memory (CLONE_VM: nothing is copied, and the JVM's
 * exit leaves the memory to it) but gets its own copy of the descriptor table. The JVM's closes,
 * and its exit, then only drop the JVM's references, at once.
 *
 * The helper first closes, at once, every descriptor that does not hold a probe: standard
 * streams, sockets and files must not outlive the JVM (a reader waiting for end of file, a
 * restarted server binding the same port). It then waits until the JVM has gone (the end of a
 * pipe whose only writer is the JVM): had it closed its probes' descriptors at once, the JVM's
 * own closes would have been the last ones and paid the grace periods. Then it closes the BPF
 * links and perf events one by one, which removes the probes, and exits.
 *
 * It runs on a stack of its own and executes nothing but raw system calls: it has no thread
 * pointer of its own, so no libc function that touches errno or TLS may run in it. It starts with
 * every signal blocked (the JVM's handlers must never run in it); SIGKILL still ends it, and the
 * kernel then closes what is left. Its parent is the JVM; once the JVM has exited the kernel
 * hands it to the nearest subreaper or init, which reaps it.
 */
#if defined(__x86_64__)
#define EXIT_HELPER_MAPPING (128 * 1024)
#define EXIT_HELPER_MAX_PROBES 8192 /* descriptors kept for last; any beyond close with the rest */

struct exit_helper_work {
	int jvm_gone; /* read end of a pipe only the JVM writes to: end of file once it has exited */
	int highest; /* the highest descriptor open when the helper started */
	int count;
	int probes[EXIT_HELPER_MAX_PROBES]; /* ascending */
};

static long exit_helper_syscall(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

/* close_range, or where a seccomp filter or an old kernel refuses it, one close per number */
static void exit_helper_close(unsigned int first, unsigned int last)
{
	if (exit_helper_syscall(SYS_close_range, first, last, 0) == 0)
		return;
	for (; first <= last; first++)
		exit_helper_syscall(SYS_close, first, 0, 0);
}

/*
 * Where the helper's read of the pipe lands: not on its stack, since an address-taken local would
 * give the function a stack protector, which reads its canary through the thread pointer.
 */
static char exit_helper_byte;

static int exit_helper(void *arg)
{
	const struct exit_helper_work *work = arg;
	unsigned int next = 0;
	int i;

	exit_helper_syscall(SYS_prctl, PR_SET_NAME, (long)"jvm-ebpf-exit", 0);
	for (i = 0; i <= work->count; i++) {
		/* probes[] is ascending and jvm_gone is above all of them (opened last) */
		int keep = i < work->count ? work->probes[i] : work->jvm_gone;

		if ((unsigned int)keep > next)
			exit_helper_close(next, keep - 1);
		next = keep + 1;
	}
	if (exit_helper_syscall(SYS_close_range, next, ~0U, 0) != 0 && work->highest >= (int)next)
		exit_helper_close(next, work->highest);
	while (exit_helper_syscall(SYS_read, work->jvm_gone, (long)&exit_helper_byte, 1) == -EINTR)
		;
	exit_helper_syscall(SYS_close, work->jvm_gone, 0, 0);
	for (i = 0; i < work->count; i++)
		exit_helper_syscall(SYS_close, work->probes[i], 0, 0);
	return 0; /* clone's child path then calls exit(0) directly */
}

/* Whether the descriptor holds a probe: a BPF link or a perf event (a uprobe's). */
static int holds_probe(int dir_fd, const char *name)
{
	char target[64];
	ssize_t n = readlinkat(dir_fd, name, target, sizeof(target) - 1);

	if (n <= 0)
		return 0;
	target[n] = 0;
	return strcmp(target, "anon_inode:bpf_link") == 0 || strcmp(target, "anon_inode:[perf_event]") == 0;
}

static int ascending(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The helper's pid, or the negative errno (-ENOSYS where the helper is not built). */
int jeb_exit_handoff(void)
{
	struct exit_helper_work *work;
	struct dirent *entry;
	sigset_t all, previous;
	DIR *dir;
	char *mapping;
	int jvm_gone[2];
	int pid, err;

	mapping = mmap(NULL, EXIT_HELPER_MAPPING, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
		       -1, 0);
	if (mapping == MAP_FAILED)
		return -errno;
	work = (struct exit_helper_work *)mapping; /* the stack grows down from the mapping's end */
	dir = opendir("/proc/self/fd");
	if (!dir) {
		err = errno;
		munmap(mapping, EXIT_HELPER_MAPPING);
		return -err;
	}
	while ((entry = readdir(dir)) != NULL && work->count < EXIT_HELPER_MAX_PROBES) {
		int fd = atoi(entry->d_name);

		if (entry->d_name[0] == '.' || fd == dirfd(dir))
			continue;
		if (fd > work->highest)
			work->highest = fd;
		if (holds_probe(dirfd(dir), entry->d_name))
			work->probes[work->count++] = fd;
	}
	closedir(dir);
	qsort(work->probes, work->count, sizeof(work->probes[0]), ascending);
	if (pipe2(jvm_gone, O_CLOEXEC) != 0) {
		err = errno;
		munmap(mapping, EXIT_HELPER_MAPPING);
		return -err;
	}
	if (work->count > 0 && jvm_gone[0] < work->probes[work->count - 1]) {
		/* a lower number was free: keep the pipe above the probes, as the helper expects */
		int high = fcntl(jvm_gone[0], F_DUPFD_CLOEXEC, work->probes[work->count - 1] + 1);

		close(jvm_gone[0]);
		jvm_gone[0] = high;
		if (high < 0) {
			err = errno;
			close(jvm_gone[1]);
			munmap(mapping, EXIT_HELPER_MAPPING);
			return -err;
		}
	}
	work->jvm_gone = jvm_gone[0];
	if (jvm_gone[0] > work->highest)
		work->highest = jvm_gone[0];
	if (jvm_gone[1] > work->highest)
		work->highest = jvm_gone[1];

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &previous);
	pid = clone(exit_helper, mapping + EXIT_HELPER_MAPPING, CLONE_VM | SIGCHLD, work);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &previous, NULL);
	close(jvm_gone[0]);
	if (pid < 0) {
		close(jvm_gone[1]);
		munmap(mapping, EXIT_HELPER_MAPPING);
		return -err;
	}
	/* jvm_gone[1] stays open until the JVM exits; the mapping stays: the helper runs on it */
	return pid;
}
#else
int jeb_exit_handoff(void)
{
	return -ENOSYS;
}
#endif

/*
 * Waits until the ring has records, or wake_fd was signalled, or timeout_ms passed (-1: no
 * timeout). Returns a mask: 1 the ring has data, 2 woken (the eventfd is then reset); 0 on
 * timeout; or the negative errno. The ring's epoll descriptor is itself pollable.
 */
int jeb_ring_wait(struct ring_buffer *rb, int wake_fd, int timeout_ms)
{
	struct pollfd fds[2] = {
		{ .fd = ring_buffer__epoll_fd(rb), .events = POLLIN },
		{ .fd = wake_fd, .events = POLLIN },
	};
	int n = poll(fds, 2, timeout_ms), mask = 0;

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (fds[0].revents & POLLIN)
		mask |= 1;
	if (fds[1].revents & POLLIN) {
		uint64_t count;

		if (read(wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			return -errno;
		mask |= 2;
	}
	return mask;
}

/*
 * OpenTelemetry Process Context (OTEP 4719, header version 2): a mapping of its own, shown in
 * /proc/<pid>/maps as /memfd:OTEL_CTX (or, without memfd, [anon_shmem:OTEL_CTX]),
 * holding the 32-byte header and right after it the payload of `size` bytes. The signature is
 * written last, after a fence. Returns the mapping's address and sets *length, or -errno (then
 * nothing is mapped).
 */
struct jeb_process_context_header {
	char signature[8];
	uint32_t version;
	uint32_t payload_size;
	uint64_t published_at_ns;
	uint64_t payload;
};

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif
#ifndef PR_SET_VMA_ANON_NAME
#define PR_SET_VMA_ANON_NAME 0
#endif

long jeb_process_context_publish(const void *payload, unsigned int size, unsigned long long published_at_ns,
				 unsigned long *length)
{
	struct jeb_process_context_header *header;
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (sizeof(*header) + size + page - 1) / page * page;
	int memfd = (int)syscall(SYS_memfd_create, "OTEL_CTX", 1U /* MFD_CLOEXEC */);
	void *map;
	int err, named;

	if (memfd >= 0 && ftruncate(memfd, (off_t)len) != 0) {
		err = -errno;
		close(memfd);
		return err;
	}
	/* Without memfd, a shared anonymous mapping: named, it shows as [anon_shmem:OTEL_CTX], which
	 * the OTEP's readers look for (a private one would show as [anon:OTEL_CTX]). */
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, memfd >= 0 ? MAP_PRIVATE : MAP_SHARED | MAP_ANONYMOUS,
		   memfd, 0);
	err = -errno;
	if (memfd >= 0)
		close(memfd);
	if (map == MAP_FAILED)
		return err;
	if (madvise(map, len, MADV_DONTFORK) != 0) {
		err = -errno;
		munmap(map, len);
		return err;
	}
	header = map;
	memcpy((char *)map + sizeof(*header), payload, size);
	header->version = 2;
	header->payload_size = size;
	header->published_at_ns = published_at_ns;
	header->payload = (uint64_t)(uintptr_t)((char *)map + sizeof(*header));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(header->signature, "OTEL_CTX", 8);
	/* Names an anonymous mapping only (a memfd's fails): readers find either. */
	named = prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)map, len, (unsigned long)"OTEL_CTX") == 0;
	if (memfd < 0 && !named) {
		munmap(map, len);
		return -EOPNOTSUPP; /* an anonymous mapping without a name: no reader could find it */
	}
	*length = len;
	return (long)map;
}

/* Removes a mapping jeb_process_context_publish made. */
int jeb_process_context_drop(void *map, unsigned long length)
{
	return munmap(map, length) == 0 ? 0 : -errno;
}
