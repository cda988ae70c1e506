package dev.jvmebpf.bpf.libbpf;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import jnr.ffi.types.size_t;

/**
 * The native surface of libbpf-bundled.so: libbpf's own calls that take only handles, file
 * descriptors and buffers, plus the shim's {@code jeb_*} calls for everything that involves a
 * libbpf option struct or a va_list. Calls return 0 or a negative errno unless noted.
 * Used only through {@link Libbpf}, {@link BpfObject} and {@link BpfMap}.
 */
public interface LibbpfNative {

  /** Receives libbpf's messages; level is enum libbpf_print_level (0 warn, 1 info, 2 debug). */
  interface LogCallback {
    @Delegate
    void log(int level, String message);
  }

  void jeb_set_log(LogCallback callback);

  /** Receives one ring-buffer record (libbpf's ring_buffer_sample_fn); a negative return stops the read. */
  interface SampleCallback {
    @Delegate
    int sample(Pointer context, Pointer data, @size_t long size);
  }

  /** A BPF_MAP_TYPE_RINGBUF of {@code bytes}: its descriptor, or the negative errno. */
  int jeb_ring_create(int bytes);

  /** A reader of the ring behind mapFd, calling callback for each record it consumes. */
  int jeb_ring_open(int mapFd, SampleCallback callback, PointerByReference ring);

  /** Records consumed, or a negative errno. */
  int ring_buffer__consume(Pointer ring);

  void ring_buffer__free(Pointer ring);

  /** 1 ring readable, 2 woken, 3 both, 0 timeout, or the negative errno. */
  int jeb_ring_wait(Pointer ring, int wakeFd, int timeoutMillis);

  /** An eventfd: its descriptor or the negative errno. */
  int jeb_eventfd();

  int jeb_eventfd_signal(int fd);

  int jeb_close(int fd);

  /** A BPF_MAP_TYPE_ARRAY of {@code entries} values (u32 keys): its descriptor, or the negative errno. */
  int jeb_array_create(String name, int valueSize, int entries);

  /** Loaded libraries with TLS, as lines "module id TAB path", into out; the bytes written. */
  long jeb_tls_objects(@Out byte[] out, @size_t long size);

  /** The thread pointer minus the calling thread's address of TLS variable {@code symbol} of {@code path}; 0: unknown. */
  long jeb_tls_tp_offset(String path, String symbol);

  /** Loads our thread context writer's library (libjeb-threadctx.so); 0 or a negative errno. */
  int jeb_thread_ctx_open(String path);

  /** Points the calling thread's otel_thread_ctx_v1 at {@code record} (null: none); 0 or -ENOENT. */
  int jeb_thread_ctx_bind(Pointer record);

  /** The calling thread's otel_thread_ctx_v1. */
  Pointer jeb_thread_ctx_current();

  /** How many objects the dynamic loader has loaded so far (glibc's dlpi_adds); 0: unknown. */
  long jeb_loaded_objects();

  /** Maps an OTEL_CTX process context holding payload: its address (length in length[0]), or -errno. */
  long jeb_process_context_publish(@In byte[] payload, int size, long publishedAtNanos, @Out long[] length);

  /** Unmaps what jeb_process_context_publish mapped. */
  int jeb_process_context_drop(long address, long length);

  /** Before load: the map will be the one behind fd (a map of the same type and sizes). */
  int bpf_map__reuse_fd(Pointer map, int fd);

  int jeb_open(@In byte[] buffer, @size_t long size, String name, PointerByReference object);

  long jeb_rodata_size(Pointer object);

  int jeb_set_rodata(Pointer object, @In byte[] data, @size_t long size);

  int jeb_attach_usdt(Pointer program, int pid, String binary, String provider, String name,
      PointerByReference link);

  int jeb_attach_uprobe(Pointer program, int pid, String binary, String function,
      @size_t long offset, int retprobe, long cookie, PointerByReference link);

  /** 1 when the kernel has uprobe_multi links, 0 when not, else the negative errno. */
  int jeb_probe_uprobe_multi();

  /** Before load: the program will be attached through uprobe_multi links. */
  int jeb_use_uprobe_multi(Pointer program);

  /** At fileOffsets with their cookies, or (count 0) at the entry of the function named exactly func. */
  int jeb_attach_uprobe_multi(Pointer program, int pid, String binary, String func, @In long[] fileOffsets,
      @In long[] cookies,
      @size_t long count, int retprobe, PointerByReference link);

  int jeb_prog_test_run(int programFd, @In byte[] context, int contextSize, IntByReference returnValue);

  /** kill(2): 0 or the negative errno. */
  int jeb_kill(int pid, int signal);

  int jeb_strerror(int error, @Out byte[] buffer, @size_t long size);

  int bpf_object__load(Pointer object);

  void bpf_object__close(Pointer object);

  /** NULL when absent. */
  Pointer bpf_object__find_program_by_name(Pointer object, String name);

  /** NULL when absent. */
  Pointer bpf_object__find_map_by_name(Pointer object, String name);

  int bpf_program__fd(Pointer program);

  int bpf_program__set_autoload(Pointer program, boolean autoload);

  int bpf_map__fd(Pointer map);

  int bpf_map__set_max_entries(Pointer map, int maxEntries);

  int bpf_map__max_entries(Pointer map);

  int bpf_map__key_size(Pointer map);

  int bpf_map__value_size(Pointer map);

  int bpf_map__type(Pointer map);

  int bpf_map_lookup_elem(int fd, @In byte[] key, @Out byte[] value);

  int bpf_map_update_elem(int fd, @In byte[] key, @In byte[] value, long flags);

  int bpf_map_delete_elem(int fd, @In byte[] key);

  /** key NULL gives the first key. */
  int bpf_map_get_next_key(int fd, @In byte[] key, @Out byte[] nextKey);

  int bpf_link__destroy(Pointer link);

  /** Number of possible CPUs (per-CPU map values hold this many copies), or a negative errno. */
  int libbpf_num_possible_cpus();

  /** 1 when the kernel loads a trivial program of the type, else the negative errno. */
  int jeb_probe_prog_load(int programType);

  /** &errno minus the thread pointer (the same in every thread), or 0 when unknown. */
  long jeb_errno_tp_offset();
}
