package dev.jvmebpf.bpf.libbpf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The bundled libbpf (libbpf + libelf + zlib + our shim, depending on glibc only), loaded once
 * per process. The library ships as a platform-tagged resource and is extracted into a private
 * directory before loading; the system property {@value #PATH_PROPERTY} points at another copy
 * instead.
 *
 * <p>libbpf's own messages are kept per calling thread while an operation runs, so that a
 * failure can carry them (the verifier's log in particular), and are passed to an optional
 * listener for debugging. Nothing is printed.
 */
public final class Libbpf {

  public static final String PATH_PROPERTY = "jvm.ebpf.libbpf.path";
  static final String RESOURCE = "/dev/jvmebpf/bpf/native/linux-x86_64/libbpf-bundled.so";
  /** Our OpenTelemetry thread context writer's library, extracted beside it (jeb_threadctx.c). */
  static final String THREAD_CTX_LIBRARY = "libjeb-threadctx.so";
  static final int LOG_WARN = 0;
  static final int LOG_DEBUG = 2;

  private static Libbpf instance;

  private final Path threadContextLibrary;
  private final int possibleCpus;
  private final Path path;
  private final ThreadLocal<StringBuilder> capture = new ThreadLocal<>();
  private volatile BiConsumer<Integer, String> listener;

  private Libbpf(Path path) throws BpfException {
    this.path = path;
    Path threadContext = path.resolveSibling(THREAD_CTX_LIBRARY);
    this.threadContextLibrary = Files.isRegularFile(threadContext)
        && LibbpfNative.threadContextOpen(threadContext.toString()) == 0 ? threadContext : null;
    int cpus = LibbpfNative.possibleCpus();
    if (cpus <= 0) {
      throw error("count possible CPUs", cpus);
    }
    this.possibleCpus = cpus;
  }

  /**
   * Loads the bundled library, extracting it into {@code privateDir} (which the caller created
   * with mode 0700), or into a fresh private temporary directory when {@code privateDir} is
   * null. Later calls return the same instance.
   */
  public static synchronized Libbpf load(Path privateDir) throws BpfException {
    if (instance != null) {
      return instance;
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new BpfUnsupportedException("load libbpf: jvm-ebpf-agent supports Linux on x86-64 only, this is "
          + System.getProperty("os.name") + " on " + arch, 0);
    }
    Path library;
    String override = System.getProperty(PATH_PROPERTY);
    try {
      library = override != null && !override.isBlank() ? Path.of(override) : extract(privateDir);
    } catch (IOException e) {
      throw new BpfException("extract libbpf-bundled.so: " + e.getMessage(), e);
    }
    Libbpf[] created = new Libbpf[1];
    try {
      LibbpfNative.load(library.toAbsolutePath().toString(), (level, message) -> {
        Libbpf l = created[0];
        if (l != null) {
          l.onLog(level, message);
        }
      });
    } catch (LinkageError | RuntimeException e) {
      throw new BpfException("load " + library + ": " + e.getMessage(), e);
    }
    created[0] = new Libbpf(library);
    instance = created[0];
    return instance;
  }

  /** The instance {@link #load} created; IllegalStateException before. */
  public static synchronized Libbpf get() {
    if (instance == null) {
      throw new IllegalStateException("libbpf is not loaded");
    }
    return instance;
  }

  private static Path extract(Path privateDir) throws IOException {
    // Where the class loader already keeps the libraries as files (the agent's extracts them into
    // its private directory on request), they are loaded from there: a second copy of 560 KB
    // cost every start about 8 ms.
    Path inPlace = resourceFile(RESOURCE);
    String threadContext = RESOURCE.substring(0, RESOURCE.lastIndexOf('/') + 1) + THREAD_CTX_LIBRARY;
    if (inPlace != null && inPlace.resolveSibling(THREAD_CTX_LIBRARY).equals(resourceFile(threadContext))) {
      return inPlace;
    }
    Path dir = privateDir;
    if (dir == null) {
      dir = Files.createTempDirectory("jvm-ebpf-agent-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      dir.toFile().deleteOnExit();
    }
    Path target = copyOut(RESOURCE, dir.resolve("libbpf-bundled.so"));
    copyOut(RESOURCE.substring(0, RESOURCE.lastIndexOf('/') + 1) + THREAD_CTX_LIBRARY, dir.resolve(THREAD_CTX_LIBRARY));
    return target;
  }

  /** The file a resource of this module is, when its class loader hands out a file: URL; else null. */
  private static Path resourceFile(String resource) {
    try {
      java.net.URL url = Libbpf.class.getResource(resource);
      return url != null && url.getProtocol().equals("file") ? Path.of(url.toURI()) : null;
    } catch (java.net.URISyntaxException | RuntimeException e) {
      return null;
    }
  }

  private static Path copyOut(String resource, Path target) throws IOException {
    try (InputStream in = Libbpf.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("resource " + resource + " is missing from the agent");
      }
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("r-x------"));
    target.toFile().deleteOnExit();
    return target;
  }

  /** Where the loaded library came from. */
  /**
   * The loaded libraries that have thread-local storage, by glibc's TLS module id (their slot in
   * each thread's dynamic thread vector), from the dynamic loader's own list.
   */
  public Map<Long, String> tlsObjects() {
    Map<Long, String> objects = new LinkedHashMap<>();
    for (String line : new String(LibbpfNative.tlsObjects(), StandardCharsets.UTF_8).split("\n")) {
      int tab = line.indexOf('\t');
      if (tab > 0) {
        objects.put(Long.parseLong(line.substring(0, tab)), line.substring(tab + 1));
      }
    }
    return objects;
  }

  /**
   * The thread pointer minus the calling thread's address of the TLS variable {@code symbol} of
   * the library loaded from {@code path} (looking it up allocates it in this thread if needed);
   * 0 when unknown. The same in every thread when the library's TLS is static.
   */
  public long tlsThreadPointerOffset(String path, String symbol) {
    return LibbpfNative.tlsThreadPointerOffset(path, symbol);
  }

  /**
   * {@link dev.jvmebpf.bpf.elf.ElfFile.TableScan}'s work done in C over a mapping of the file: a
   * library's symbol tables (libjvm's are 5 MB) are scanned without entering the Java heap or
   * waiting for the JIT.
   */
  public void scanSymbols(java.nio.file.Path file, int type, boolean definedOnly, String[] names, boolean[] found,
      long[] out) throws java.io.IOException {
    int rc = LibbpfNative.elfSymbols(file.toString(), type, definedOnly, names, out, found);
    if (rc < 0) {
      throw new java.io.IOException(file + ": symbol tables not scanned: " + describe(-rc));
    }
  }

  /** Our thread context writer's library (it exports {@code otel_thread_ctx_v1}); null when it did not load. */
  public Path threadContextLibrary() {
    return threadContextLibrary;
  }

  /**
   * Points the calling thread's {@code otel_thread_ctx_v1} (our writer's) at {@code record}, a
   * direct buffer the caller keeps reachable as long as the thread may use it; null: at nothing.
   * False when our writer's library did not load.
   */
  public boolean bindThreadContext(ByteBuffer record) {
    if (record != null && !record.isDirect()) {
      throw new IllegalArgumentException("a thread context record lives in native memory");
    }
    return threadContextLibrary != null && LibbpfNative.threadContextBind(record) == 0;
  }

  /** The address the calling thread's {@code otel_thread_ctx_v1} holds; 0: none. */
  public long boundThreadContext() {
    return LibbpfNative.threadContextCurrent();
  }

  /**
   * The start of the record that the calling thread's {@code otel_thread_ctx_v1} of the library
   * loaded from {@code library} (another writer's) points at, {@code bytes} long (at most 64);
   * null when the thread has no record or the library exports no such pointer.
   */
  public byte[] threadContextRecord(Path library, int bytes) {
    byte[] out = new byte[bytes];
    return LibbpfNative.threadContextRead(library.toString(), out) == 0 ? out : null;
  }

  /**
   * The local ports of the TCP sockets (IPv4 and IPv6) this process listens on, asked of its own
   * descriptors.
   *
   * @throws BpfException when the descriptors cannot be listed
   */
  public java.util.Set<Integer> listeningTcpPorts() throws BpfException {
    for (int room = 1024; ; room *= 8) {
      int[] ports = new int[room];
      int count = LibbpfNative.listeningTcpPorts(ports);
      if (count < 0) {
        throw error("list this process's listening sockets", count);
      }
      if (count < room || room >= 65536 * 8) {
        java.util.Set<Integer> out = new java.util.TreeSet<>();
        for (int i = 0; i < count; i++) {
          out.add(ports[i]);
        }
        return out;
      }
    }
  }

  /** How many objects the dynamic loader has loaded into this process so far; 0: unknown. */
  public long loadedObjects() {
    return LibbpfNative.loadedObjects();
  }

  /**
   * Maps a process context (OpenTelemetry's OTEP 4719) holding {@code payload}, published at
   * {@code publishedAtNanos} (epoch nanoseconds).
   *
   * @return the mapping's address and length
   * @throws BpfException when the kernel refuses the mapping
   */
  public long[] publishProcessContext(byte[] payload, long publishedAtNanos) throws BpfException {
    long[] length = new long[1];
    long address = LibbpfNative.processContextPublish(payload, publishedAtNanos, length);
    if (address < 0 && address > -4096) {
      throw new BpfException("map the OTEL_CTX process context: " + describe((int) -address), (int) -address);
    }
    return new long[] {address, length[0]};
  }

  /** Unmaps a process context {@link #publishProcessContext} mapped. */
  public void dropProcessContext(long address, long length) {
    LibbpfNative.processContextDrop(address, length);
  }

  public Path path() {
    return path;
  }

  /** Copies in a per-CPU map value: one per possible CPU. */
  public int possibleCpus() {
    return possibleCpus;
  }

  /**
   * Receives every libbpf message (level 0 warn, 1 info, 2 debug); null to stop. Without a
   * listener only warnings leave the library (the errors' detail is made of them).
   */
  public void setLogListener(BiConsumer<Integer, String> listener) {
    this.listener = listener;
    LibbpfNative.setLogLevel(listener == null ? LOG_WARN : LOG_DEBUG);
  }

  /**
   * From true until false, the objects that load parse the kernel's BTF (5 MB, for their CO-RE
   * relocations) once between them instead of once each; it is freed when the last of them has
   * loaded and false was given. For a series of loads, such as the families' at start.
   */
  public void shareKernelBtf(boolean share) {
    LibbpfNative.shareKernelBtf(share);
  }

  /**
   * Whether the kernel lets this process load tracing (kprobe/uprobe) programs: 1 yes, else
   * the negative errno (-EPERM without privileges, -EINVAL when the kernel lacks the type).
   */
  public int probeUprobePrograms() {
    return LibbpfNative.probeProgLoad(2 /* BPF_PROG_TYPE_KPROBE */);
  }

  private volatile Boolean uprobeMulti;

  /**
   * Whether this kernel has uprobe_multi links (Linux 6.6): one link for many uprobes, which the
   * kernel removes in one go instead of one by one. Probed once.
   */
  public boolean hasUprobeMulti() {
    Boolean known = uprobeMulti;
    if (known == null) {
      known = LibbpfNative.probeUprobeMulti() == 1;
      uprobeMulti = known;
    }
    return known && !uprobeMultiOff;
  }

  private volatile boolean uprobeMultiOff;

  /** For tests and comparisons: objects opened from now on attach one link per uprobe, as on older kernels. */
  public void setUprobeMultiOff(boolean off) {
    uprobeMultiOff = off;
  }

  /**
   * Where libc keeps errno, as an offset from the thread pointer: glibc's errno lives in its
   * static TLS block, at the same offset in every thread. Empty when it cannot be told.
   */
  public java.util.OptionalLong errnoThreadPointerOffset() {
    long offset = LibbpfNative.errnoThreadPointerOffset();
    return offset == 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(offset);
  }

  private void onLog(int level, String message) {
    StringBuilder sb = capture.get();
    if (sb != null && level == LOG_WARN) {
      sb.append(message);
    }
    BiConsumer<Integer, String> l = listener;
    if (l != null) {
      try {
        l.accept(level, message.stripTrailing());
      } catch (RuntimeException ignored) {
        // A listener must never break a libbpf call.
      }
    }
  }

  /** Starts keeping libbpf's warnings on this thread; returns what was kept by {@link #endCapture}. */
  void beginCapture() {
    capture.set(new StringBuilder());
  }

  String endCapture() {
    StringBuilder sb = capture.get();
    capture.remove();
    return sb == null ? "" : sb.toString();
  }

  /** A typed exception for a failed call that returned {@code result} (a negative errno). */
  BpfException error(String operation, int result) {
    return error(operation, result, "");
  }

  BpfException error(String operation, int result, String libbpfLog) {
    int errno = Math.abs(result);
    String text = operation + ": " + describe(errno);
    if (libbpfLog.contains("BEGIN PROG LOAD LOG")) {
      return new BpfVerifierException(text + "; the verifier rejected the program", errno,
          verifierLog(libbpfLog));
    }
    if (errno == Errno.EPERM || errno == Errno.EACCES) {
      return new BpfPermissionException(text + "; " + BpfPermissionException.HOW_TO_GRANT, errno);
    }
    if (errno == Errno.ENOSYS || errno == Errno.EOPNOTSUPP || errno == Errno.ENOTSUPP) {
      return new BpfUnsupportedException(text + "; the kernel lacks this BPF feature", errno);
    }
    String detail = lastLine(libbpfLog);
    return new BpfException(detail.isEmpty() ? text : text + " (libbpf: " + detail + ")", errno);
  }

  /**
   * Hands this process's probes to a helper process that removes them once the JVM has gone: only
   * for the JVM's exit, right before its last references to links are closed. The kernel removes
   * a uprobe only after grace periods (about 100 ms for the links closed side by side here, and
   * 700-800 ms when a process exits with its links open); the helper shares the JVM's memory,
   * holds its own copy of the descriptors, closes at once every one that is not a BPF link or a
   * perf event (standard streams, sockets and files do not outlive the JVM), then the probes', and
   * exits. The JVM's own closes then cost nothing and its exit waits for no grace period.
   *
   * @return the helper's pid, or the negated errno when there is none (the caller then removes
   *     the probes itself, as without a hand-off)
   */
  public int handOffProbesAtExit() {
    return LibbpfNative.exitHandoff();
  }

  /**
   * Sends {@code signal} to process {@code pid} (kill(2)); the library is loaded anyway, and Java
   * has no way to send a signal of its own. Returns 0 or the errno.
   */
  public int signal(long pid, int signal) {
    return -LibbpfNative.kill((int) pid, signal);
  }

  /** "EPERM (Operation not permitted)", the text from libbpf_strerror. */
  public String describe(int errno) {
    String description = new String(LibbpfNative.strerror(errno), StandardCharsets.UTF_8);
    return description.isEmpty() ? Errno.name(errno) : Errno.name(errno) + " (" + description + ")";
  }

  private static String verifierLog(String log) {
    int from = log.indexOf("-- BEGIN PROG LOAD LOG --");
    int to = log.indexOf("-- END PROG LOAD LOG --");
    if (from < 0) {
      return log;
    }
    return to > from ? log.substring(from, to + "-- END PROG LOAD LOG --".length()) : log.substring(from);
  }

  private static String lastLine(String log) {
    String[] lines = log.strip().split("\n");
    return lines.length == 0 ? "" : lines[lines.length - 1].replaceFirst("^libbpf: ", "").strip();
  }
}
