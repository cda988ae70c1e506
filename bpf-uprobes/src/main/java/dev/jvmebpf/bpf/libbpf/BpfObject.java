package dev.jvmebpf.bpf.libbpf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A live BPF object with the links it attached. The lifecycle is libbpf's:
 * {@link #open} → configure ({@link #setConfig}, {@link #setMaxEntries}) → {@link #load} →
 * attach → read {@link #map maps} → {@link #close}. Each step fails with its own message.
 * Closing destroys every link (the kernel then removes the uprobes) and the object; it is
 * idempotent. Thread-safe.
 */
public final class BpfObject implements AutoCloseable {

  private final Libbpf libbpf;
  private final BpfObjectSpec spec;
  private final List<Long> links = new ArrayList<>();
  private final List<String> attached = new ArrayList<>();
  private final java.util.Set<String> multi = new java.util.HashSet<>();
  private long object; // 0 once closed
  private boolean loaded;

  private BpfObject(Libbpf libbpf, BpfObjectSpec spec, long object) {
    this.libbpf = libbpf;
    this.spec = spec;
    this.object = object;
  }

  /** Opens the object {@code <name>.bpf.o} that the build compiled into this module's resources. */
  public static BpfObject open(Libbpf libbpf, String name) throws BpfException {
    BpfObjectSpec spec;
    try {
      spec = BpfObjectSpec.fromResource(name);
    } catch (IOException e) {
      throw new BpfException("read BPF object " + name + ": " + e.getMessage(), e);
    }
    return open(libbpf, spec);
  }

  public static BpfObject open(Libbpf libbpf, BpfObjectSpec spec) throws BpfException {
    libbpf.beginCapture();
    long object = LibbpfNative.open(spec.bytes(), spec.name());
    String log = libbpf.endCapture();
    if (object <= 0) {
      throw libbpf.error("open BPF object " + spec.name(), (int) (object == 0 ? -Errno.EINVAL : object), log);
    }
    return new BpfObject(libbpf, spec, object);
  }

  public String name() {
    return spec.name();
  }

  /** Sets the {@code const volatile} variable {@code variable} in .rodata; before load. */
  public synchronized void setConfig(String variable, byte[] value) throws BpfException {
    requireOpen(false);
    byte[] image;
    try {
      image = spec.rodataWith(variable, value);
    } catch (IOException e) {
      throw new BpfException("configure " + spec.name() + ": " + e.getMessage(), e);
    }
    int rc = LibbpfNative.setRodata(object, image);
    if (rc != 0) {
      throw libbpf.error("configure " + spec.name() + " (.rodata, " + image.length + " bytes)", rc);
    }
  }

  /** Resizes a map; before load. */
  public synchronized void setMaxEntries(String mapName, int maxEntries) throws BpfException {
    requireOpen(false);
    int rc = LibbpfNative.mapSetMaxEntries(mapPointer(mapName), maxEntries);
    if (rc != 0) {
      throw libbpf.error("size map " + mapName + " to " + maxEntries, rc);
    }
  }

  /** Makes the map {@code mapName} the existing map behind {@code fd} (same type and sizes); before load. */
  public synchronized void reuseMap(String mapName, int fd) throws BpfException {
    requireOpen(false);
    int rc = LibbpfNative.mapReuseFd(mapPointer(mapName), fd);
    if (rc != 0) {
      throw libbpf.error("share map " + mapName + " (fd " + fd + ")", rc);
    }
  }

  /** Whether the object defines the map {@code mapName}. */
  public synchronized boolean hasMap(String mapName) {
    return object != 0 && LibbpfNative.findMap(object, mapName) != 0;
  }

  /** Loads every program into the kernel (the verifier runs here) and creates the maps. */
  public synchronized void load() throws BpfException {
    requireOpen(false);
    libbpf.beginCapture();
    int rc = LibbpfNative.objectLoad(object);
    String log = libbpf.endCapture();
    if (rc != 0) {
      throw libbpf.error("load BPF object " + spec.name(), rc, log);
    }
    loaded = true;
  }

  /**
   * Attaches a USDT program to {@code provider:probe} in {@code binary}, for process {@code pid}
   * only: the kernel installs the breakpoints in that process alone.
   */
  public synchronized void attachUsdt(String program, int pid, Path binary, String provider, String probe)
      throws BpfException {
    requireOpen(true);
    String what = "attach usdt " + provider + ":" + probe + " in " + binary + " (pid " + pid + ")";
    link(program, what, prog -> LibbpfNative.attachUsdt(prog, pid, binary.toString(), provider, probe));
  }

  /**
   * Attaches a uprobe (or uretprobe) on {@code function + offset} in {@code binary} for
   * process {@code pid} only. {@code function} may be a local symbol of .symtab. A function's
   * entry is probed through a uprobe_multi link when {@link #preferUprobeMulti} said so.
   */
  public synchronized void attachUprobe(String program, int pid, Path binary, String function, long offset,
      boolean returnProbe) throws BpfException {
    if (function == null || offset != 0 || !multi.contains(program)) {
      attachUprobe(program, pid, binary, function, offset, returnProbe, 0);
      return;
    }
    requireOpen(true);
    String what = "attach " + (returnProbe ? "uretprobe " : "uprobe ") + function + " (multi) in " + binary
        + " (pid " + pid + ")";
    link(program, what, prog -> LibbpfNative.attachUprobeMulti(prog, pid, binary.toString(), function,
        new long[0], new long[0], returnProbe));
  }

  private void attachUprobe(String program, int pid, Path binary, String function, long offset,
      boolean returnProbe, long cookie) throws BpfException {
    requireOpen(true);
    String what = "attach " + (returnProbe ? "uretprobe " : "uprobe ") + (function == null ? "at file offset "
        + offset : function + (offset != 0 ? "+" + offset : "")) + " in " + binary + " (pid " + pid + ")";
    link(program, what, prog -> LibbpfNative.attachUprobe(prog, pid, binary.toString(), function, offset,
        returnProbe, cookie));
  }

  /**
   * Before load: {@code program} will be attached through uprobe_multi links ({@link #attachUprobes},
   * and {@link #attachUprobe} at a function's entry) when the kernel has that link type. Returns
   * whether it will. Such a link is also quicker to remove than a perf-event uprobe: measured here,
   * about 70 ms against 85 ms or more per perf-event link, one link for all its places.
   */
  public synchronized boolean preferUprobeMulti(String program) throws BpfException {
    requireOpen(false);
    if (!libbpf.hasUprobeMulti()) {
      return false;
    }
    int rc = LibbpfNative.useUprobeMulti(programPointer(program));
    if (rc != 0) {
      throw libbpf.error("set up " + program + " for uprobe_multi", rc);
    }
    multi.add(program);
    return true;
  }

  /**
   * Attaches {@code program} at each of {@code fileOffsets} in {@code binary}, for process
   * {@code pid} only, each place with its cookie (which the program reads with
   * bpf_get_attach_cookie): one uprobe_multi link when {@link #preferUprobeMulti} said so, else one
   * link per place.
   */
  public synchronized void attachUprobes(String program, int pid, Path binary, long[] fileOffsets, long[] cookies,
      boolean returnProbe) throws BpfException {
    requireOpen(true);
    if (fileOffsets.length != cookies.length || fileOffsets.length == 0) {
      throw new IllegalArgumentException(program + ": " + fileOffsets.length + " places, " + cookies.length
          + " cookies");
    }
    if (!multi.contains(program)) {
      for (int i = 0; i < fileOffsets.length; i++) {
        attachUprobe(program, pid, binary, null, fileOffsets[i], returnProbe, cookies[i]);
      }
      return;
    }
    String what = "attach " + (returnProbe ? "uretprobe" : "uprobe") + " multi (" + fileOffsets.length
        + " places) in " + binary + " (pid " + pid + ")";
    link(program, what, prog -> LibbpfNative.attachUprobeMulti(prog, pid, binary.toString(), null,
        fileOffsets, cookies, returnProbe));
  }

  /** One of libbpf's attach calls: the link, or a negative errno. */
  private interface AttachCall {
    long attach(long program);
  }

  /** Makes one link of {@code program} with {@code call} (libbpf's log captured for the error), and keeps it. */
  private void link(String program, String what, AttachCall call) throws BpfException {
    long prog = programPointer(program);
    libbpf.beginCapture();
    long link = call.attach(prog);
    String log = libbpf.endCapture();
    if (link <= 0) {
      throw attachError(what, (int) (link == 0 ? -Errno.EINVAL : link), log);
    }
    links.add(link);
    attached.add(program);
  }

  /** Links made so far (a uprobe_multi link counts once, however many places it probes). */
  public synchronized int linkCount() {
    return links.size();
  }

  /** Runs a program that supports BPF_PROG_TEST_RUN once; returns the program's return value. */
  public synchronized int testRun(String program, byte[] context) throws BpfException {
    requireOpen(true);
    int fd = LibbpfNative.programFd(programPointer(program));
    int[] result = new int[1];
    int rc = LibbpfNative.testRun(fd, context, result);
    if (rc != 0) {
      throw libbpf.error("test-run " + program, rc);
    }
    return result[0];
  }

  public synchronized BpfMap map(String mapName) throws BpfException {
    requireOpen(true);
    long map = mapPointer(mapName);
    return new BpfMap(libbpf, mapName, LibbpfNative.mapInfo(map, LibbpfNative.MAP_FD),
        LibbpfNative.mapInfo(map, LibbpfNative.MAP_TYPE), LibbpfNative.mapInfo(map, LibbpfNative.MAP_KEY_SIZE),
        LibbpfNative.mapInfo(map, LibbpfNative.MAP_VALUE_SIZE), LibbpfNative.mapInfo(map, LibbpfNative.MAP_MAX_ENTRIES));
  }

  /** Names of the programs attached so far, one entry per link. */
  public synchronized List<String> attachedPrograms() {
    return List.copyOf(attached);
  }

  /** Destroys the links, then the object. Idempotent. */
  @Override
  public synchronized void close() {
    if (object == 0) {
      return;
    }
    destroyAll(links);
    links.clear();
    attached.clear();
    LibbpfNative.objectClose(object);
    object = 0;
  }

  /**
   * Destroys links side by side. The kernel waits for a grace period before a uprobe is gone and
   * serializes much of it: measured here, 30 links took 3.3 s one after the other and 2.6 s side
   * by side.
   */
  private void destroyAll(List<Long> toDestroy) {
    if (toDestroy.size() <= 1) {
      toDestroy.forEach(LibbpfNative::linkDestroy);
      return;
    }
    List<Thread> threads = new ArrayList<>(toDestroy.size());
    for (long link : toDestroy) {
      Thread t = new Thread(() -> LibbpfNative.linkDestroy(link), "jvm-ebpf-agent-detach");
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    boolean interrupted = false;
    for (Thread t : threads) {
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true; // finish detaching first: the object is closed right after
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private BpfException attachError(String what, int rc, String log) {
    if (Math.abs(rc) == Errno.ENOENT) {
      String detail = log.isBlank() ? "" : " (libbpf: " + log.strip().lines().reduce((a, b) -> b).orElse("")
          .replaceFirst("^libbpf: ", "") + ")";
      return new BpfUnsupportedException(what + ": " + libbpf.describe(Math.abs(rc))
          + "; the probe or symbol is not in this binary" + detail, Math.abs(rc));
    }
    return libbpf.error(what, rc, log);
  }

  private long programPointer(String program) throws BpfException {
    long p = LibbpfNative.findProgram(object, program);
    if (p == 0) {
      throw new BpfException(spec.name() + " has no program " + program, 0);
    }
    return p;
  }

  private long mapPointer(String mapName) throws BpfException {
    long p = LibbpfNative.findMap(object, mapName);
    if (p == 0) {
      throw new BpfException(spec.name() + " has no map " + mapName, 0);
    }
    return p;
  }

  private void requireOpen(boolean mustBeLoaded) throws BpfException {
    if (object == 0) {
      throw new BpfException(spec.name() + " is closed", 0);
    }
    if (mustBeLoaded != loaded) {
      throw new BpfException(spec.name() + (loaded ? " is already loaded" : " is not loaded yet"), 0);
    }
  }
}
