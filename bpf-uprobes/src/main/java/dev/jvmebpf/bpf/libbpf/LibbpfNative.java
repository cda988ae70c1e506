package dev.jvmebpf.bpf.libbpf;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * The native surface of libbpf-bundled.so, bound through JNI (src/main/native/jeb_jni.c):
 * libbpf's own calls on handles, file descriptors and buffers, and the shim's calls for whatever
 * involves a libbpf option struct, a va_list or a system call Java cannot make. Handles of libbpf
 * objects (a BPF object, program, map, link, ring reader) are their addresses as longs; calls
 * that create one return it, or the negative errno. Other calls return 0 or a negative errno
 * unless noted. Used only through {@link Libbpf}, {@link BpfObject}, {@link BpfMap} and
 * {@link RingBuffer}.
 */
final class LibbpfNative {

  private LibbpfNative() {}

  /** Receives libbpf's messages (level: 0 warn, 1 info, 2 debug), on the thread whose call logged. */
  private static volatile BiConsumer<Integer, String> logListener;

  /** Loads the library from {@code path} and routes libbpf's messages to {@code listener}. */
  static void load(String path, BiConsumer<Integer, String> listener) {
    System.load(path);
    logListener = listener;
    int rc = init();
    if (rc != 0) {
      throw new UnsatisfiedLinkError("initialize " + path + ": error " + rc);
    }
  }

  /** Called by the library for each libbpf message; never throws. */
  @SuppressWarnings("unused")
  private static void onLog(int level, byte[] message) {
    BiConsumer<Integer, String> l = logListener;
    if (l != null) {
      try {
        l.accept(level, new String(message, StandardCharsets.UTF_8));
      } catch (RuntimeException ignored) {
        // A listener must never break a libbpf call.
      }
    }
  }

  private static native int init();

  /**
   * The most verbose libbpf level passed to the listener (0 warn, 1 info, 2 debug); the library
   * drops the others before formatting them. Warnings by default.
   */
  static native void setLogLevel(int maxLevel);

  /** While true, objects that load share one parsed copy of the kernel's BTF. */
  static native void shareKernelBtf(boolean share);

  // Ring buffer (the span ring).

  /** A BPF_MAP_TYPE_RINGBUF of {@code bytes}: its descriptor, or the negative errno. */
  static native int ringCreate(int bytes);

  /** A reader of the ring behind mapFd that calls {@code reader.deliver(byte[])} for each record it consumes. */
  static native long ringOpen(int mapFd, RingBuffer reader);

  /** Records consumed, or a negative errno. */
  static native int ringConsume(long ring);

  /** 1 ring readable, 2 woken, 3 both, 0 timeout, or the negative errno. */
  static native int ringWait(long ring, int wakeFd, int timeoutMillis);

  static native void ringFree(long ring);

  /** An eventfd: its descriptor or the negative errno. */
  static native int eventfd();

  static native int eventfdSignal(int fd);

  static native int close(int fd);

  /** The exit hand-off helper's pid, or the negative errno (see Libbpf.handOffProbesAtExit). */
  static native int exitHandoff();

  // Maps made by Java.

  /** A BPF_MAP_TYPE_ARRAY of {@code entries} values (u32 keys): its descriptor, or the negative errno. */
  static native int arrayCreate(String name, int valueSize, int entries);

  // Thread-local storage, our thread context writer, the process context.

  /** Loaded libraries with TLS, as lines "module id TAB path". */
  static native byte[] tlsObjects();

  /** The thread pointer minus the calling thread's address of TLS variable {@code symbol} of {@code path}; 0: unknown. */
  static native long tlsThreadPointerOffset(String path, String symbol);

  /**
   * ElfFile's symbol scan of the tables of {@code type} of {@code path}, in C over a mapping of the
   * file (jeb_elf_symbols): fills {@code found} and {@code out} (4 per name); how many were found
   * now, or a negative errno.
   */
  static native int elfSymbols(String path, int type, boolean definedOnly, String[] names, long[] out,
      boolean[] found);

  /** Loads our thread context writer's library (libjeb-threadctx.so); 0 or a negative errno. */
  static native int threadContextOpen(String path);

  /** Points the calling thread's otel_thread_ctx_v1 at the direct buffer {@code record} (null: none); 0 or -ENOENT. */
  static native int threadContextBind(ByteBuffer record);

  /** The calling thread's otel_thread_ctx_v1 (an address; 0: none). */
  static native long threadContextCurrent();

  /**
   * The first out.length bytes (at most 64) of the record the calling thread's otel_thread_ctx_v1
   * of {@code library} points at: 0 copied, 1 no record, -ENOENT no such library or symbol.
   */
  static native int threadContextRead(String library, byte[] out);

  /** The local ports of this process's listening TCP sockets, up to out.length: the count or -errno. */
  static native int listeningTcpPorts(int[] out);

  /** How many objects the dynamic loader has loaded so far (glibc's dlpi_adds); 0: unknown. */
  static native long loadedObjects();

  /** Maps an OTEL_CTX process context holding payload: its address (length in length[0]), or -errno. */
  static native long processContextPublish(byte[] payload, long publishedAtNanos, long[] length);

  /** Unmaps what processContextPublish mapped. */
  static native int processContextDrop(long address, long length);

  // BPF objects, programs, maps, links.

  /** Opens an object from its ELF bytes: the object, or the negative errno. */
  static native long open(byte[] object, String name);

  static native long rodataSize(long object);

  static native int setRodata(long object, byte[] image);

  static native int objectLoad(long object);

  static native void objectClose(long object);

  /** 0 when absent. */
  static native long findProgram(long object, String name);

  /** 0 when absent. */
  static native long findMap(long object, String name);

  static native int programFd(long program);

  /** Before load: the program will be attached through uprobe_multi links. */
  static native int useUprobeMulti(long program);

  static final int MAP_FD = 0;
  static final int MAP_TYPE = 1;
  static final int MAP_KEY_SIZE = 2;
  static final int MAP_VALUE_SIZE = 3;
  static final int MAP_MAX_ENTRIES = 4;

  /** One of the map's MAP_* properties. */
  static native int mapInfo(long map, int what);

  static native int mapSetMaxEntries(long map, int maxEntries);

  /** Before load: the map will be the one behind fd (a map of the same type and sizes). */
  static native int mapReuseFd(long map, int fd);

  /** The link, or the negative errno. */
  static native long attachUsdt(long program, int pid, String binary, String provider, String name);

  /** The link, or the negative errno; {@code function} null: {@code offset} is a file offset. */
  static native long attachUprobe(long program, int pid, String binary, String function, long offset,
      boolean retprobe, long cookie);

  /** At fileOffsets with their cookies, or (none given) at the entry of the function named exactly func. */
  static native long attachUprobeMulti(long program, int pid, String binary, String func, long[] fileOffsets,
      long[] cookies, boolean retprobe);

  static native int linkDestroy(long link);

  /** The program's return value in result[0]. */
  static native int testRun(int programFd, byte[] context, int[] result);

  static native int mapLookup(int fd, byte[] key, byte[] value);

  static native int mapUpdate(int fd, byte[] key, byte[] value, long flags);

  static native int mapDelete(int fd, byte[] key);

  /** key null gives the first key. */
  static native int mapNextKey(int fd, byte[] key, byte[] nextKey);

  // The kernel and the process.

  /** Number of possible CPUs (per-CPU map values hold this many copies), or a negative errno. */
  static native int possibleCpus();

  /** 1 when the kernel loads a trivial program of the type, else the negative errno. */
  static native int probeProgLoad(int programType);

  /** 1 when the kernel has uprobe_multi links, 0 when not, else the negative errno. */
  static native int probeUprobeMulti();

  /** kill(2): 0 or the negative errno. */
  static native int kill(int pid, int signal);

  /** libbpf_strerror's text (UTF-8), empty when it has none. */
  static native byte[] strerror(int error);

  /** &errno minus the thread pointer (the same in every thread), or 0 when unknown. */
  static native long errnoThreadPointerOffset();
}
