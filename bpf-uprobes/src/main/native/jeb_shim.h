/* SPDX-License-Identifier: Apache-2.0 */
/* The shim's calls (jeb_shim.c), for the JNI binding (jeb_jni.c). 0 or a negative errno unless noted. */
#ifndef JEB_SHIM_H
#define JEB_SHIM_H

#include <stddef.h>
#include <bpf/libbpf.h>

typedef void (*jeb_log_fn)(int level, const char *message);

void jeb_set_log(jeb_log_fn fn);
void jeb_set_log_level(int max_level);
/* Non-zero: objects loaded from now on share one parsed vmlinux BTF; zero: stop (freed when unused). */
void jeb_share_vmlinux_btf(int share); /* libbpf_print_level: 0 warn, 1 info, 2 debug */
int jeb_open(const void *buf, size_t size, const char *name, struct bpf_object **out);
long jeb_rodata_size(struct bpf_object *obj);
int jeb_set_rodata(struct bpf_object *obj, const void *data, size_t size);
int jeb_attach_usdt(struct bpf_program *prog, int pid, const char *binary, const char *provider,
		    const char *name, struct bpf_link **out);
int jeb_attach_uprobe(struct bpf_program *prog, int pid, const char *binary, const char *func,
		      size_t offset, int retprobe, unsigned long long cookie, struct bpf_link **out);
int jeb_prog_test_run(int prog_fd, void *ctx, unsigned int ctx_size, int *retval);
int jeb_probe_prog_load(int prog_type);
int jeb_strerror(int err, char *buf, size_t size);
int jeb_kill(int pid, int sig);
long jeb_errno_tp_offset(void);
int jeb_probe_uprobe_multi(void);
int jeb_use_uprobe_multi(struct bpf_program *prog);
int jeb_attach_uprobe_multi(struct bpf_program *prog, int pid, const char *binary, const char *func,
			    const unsigned long *offsets, const unsigned long long *cookies, size_t cnt, int retprobe,
			    struct bpf_link **out);
int jeb_ring_create(unsigned int bytes);
int jeb_array_create(const char *name, unsigned int value_size, unsigned int entries);
long jeb_tls_tp_offset(const char *path, const char *symbol);
int jeb_elf_symbols(const char *path, unsigned int sh_type, int defined_only, const char *const *names,
		    int count, unsigned long long *out, unsigned char *found);
long jeb_loaded_objects(void);
int jeb_listening_tcp_ports(int *ports, int max);
long jeb_tls_objects(char *out, size_t size);
int jeb_thread_ctx_open(const char *path);
int jeb_thread_ctx_bind(void *record);
void *jeb_thread_ctx_current(void);
int jeb_thread_ctx_read(const char *path, void *out, size_t size);
int jeb_eventfd(void);
int jeb_eventfd_signal(int fd);
int jeb_close(int fd);
int jeb_exit_handoff(void);
int jeb_ring_wait(struct ring_buffer *rb, int wake_fd, int timeout_ms);
long jeb_process_context_publish(const void *payload, unsigned int size, unsigned long long published_at_ns,
				 unsigned long *length);
int jeb_process_context_drop(void *map, unsigned long length);

#endif
