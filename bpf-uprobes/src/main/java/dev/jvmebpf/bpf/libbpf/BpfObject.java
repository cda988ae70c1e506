package dev.jvmebpf.bpf.libbpf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;

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
  private final List<Pointer> links = new ArrayList<>();
  private final List<String> attached = new ArrayList<>();
  private final java.util.Set<String> multi = new java.util.HashSet<>();
  private Pointer object;
  private boolean loaded;

  private BpfObject(Libbpf libbpf, BpfObjectSpec spec, Pointer object) {
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
    PointerByReference out = new PointerByReference();
    libbpf.beginCapture();
    int rc = libbpf.lib.jeb_open(spec.bytes(), spec.bytes().length, spec.name(), out);
    String log = libbpf.endCapture();
    if (rc != 0) {
      throw libbpf.error("open BPF object " + spec.name(), rc, log);
    }
    return new BpfObject(libbpf, spec, out.getValue());
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
    int rc = libbpf.lib.jeb_set_rodata(object, image, image.length);
    if (rc != 0) {
      throw libbpf.error("configure " + spec.name() + " (.rodata, " + image.length + " bytes)", rc);
    }
  }

  /** Resizes a map; before load. */
  public synchronized void setMaxEntries(String mapName, int maxEntries) throws BpfException {
    requireOpen(false);
    int rc = libbpf.lib.bpf_map__set_max_entries(mapPointer(mapName), maxEntries);
    if (rc != 0) {
      throw libbpf.error("size map " + mapName + " to " + maxEntries, rc);
    }
  }

  /** Makes the map {@code mapName} the existing map behind {@code fd} (same type and sizes); before load. */
  public synchronized void reuseMap(String mapName, int fd) throws BpfException {
    requireOpen(false);
    int rc = libbpf.lib.bpf_map__reuse_fd(mapPointer(mapName), fd);
    if (rc != 0) {
      throw libbpf.error("share map " + mapName + " (fd " + fd + ")", rc);
    }
  }

  /** Whether the object defines the map {@code mapName}. */
  public synchronized boolean hasMap(String mapName) {
    return object != null && libbpf.lib.bpf_object__find_map_by_name(object, mapName) != null;
  }

  /** Loads every program into the kernel (the verifier runs here) and creates the maps. */
  public synchronized void load() throws BpfException {
    requireOpen(false);
    libbpf.beginCapture();
    int rc = libbpf.lib.bpf_object__load(object);
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
    link(program, what, (prog, out) -> libbpf.lib.jeb_attach_usdt(prog, pid, binary.toString(), provider,
        probe, out));
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
    link(program, what, (prog, out) -> libbpf.lib.jeb_attach_uprobe_multi(prog, pid, binary.toString(),
        function, new long[0], new long[0], 0, returnProbe ? 1 : 0, out));
  }

  private void attachUprobe(String program, int pid, Path binary, String function, long offset,
      boolean returnProbe, long cookie) throws BpfException {
    requireOpen(true);
    String what = "attach " + (returnProbe ? "uretprobe " : "uprobe ") + (function == null ? "at file offset "
        + offset : function + (offset != 0 ? "+" + offset : "")) + " in " + binary + " (pid " + pid + ")";
    link(program, what, (prog, out) -> libbpf.lib.jeb_attach_uprobe(prog, pid, binary.toString(),
        function, offset, returnProbe ? 1 : 0, cookie, out));
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
    int rc = libbpf.lib.jeb_use_uprobe_multi(programPointer(program));
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
    link(program, what, (prog, out) -> libbpf.lib.jeb_attach_uprobe_multi(prog, pid, binary.toString(),
        null, fileOffsets, cookies, fileOffsets.length, returnProbe ? 1 : 0, out));
  }

  /** One of libbpf's attach calls: 0 and the link in {@code out}, or a negative errno. */
  private interface AttachCall {
    int attach(Pointer program, PointerByReference out);
  }

  /** Makes one link of {@code program} with {@code call} (libbpf's log captured for the error), and keeps it. */
  private void link(String program, String what, AttachCall call) throws BpfException {
    Pointer prog = programPointer(program);
    PointerByReference out = new PointerByReference();
    libbpf.beginCapture();
    int rc = call.attach(prog, out);
    String log = libbpf.endCapture();
    if (rc != 0) {
      throw attachError(what, rc, log);
    }
    links.add(out.getValue());
    attached.add(program);
  }

  /** Links made so far (a uprobe_multi link counts once, however many places it probes). */
  public synchronized int linkCount() {
    return links.size();
  }

  /** Runs a program that supports BPF_PROG_TEST_RUN once; returns the program's return value. */
  public synchronized int testRun(String program, byte[] context) throws BpfException {
    requireOpen(true);
    int fd = libbpf.lib.bpf_program__fd(programPointer(program));
    IntByReference result = new IntByReference();
    int rc = libbpf.lib.jeb_prog_test_run(fd, context, context.length, result);
    if (rc != 0) {
      throw libbpf.error("test-run " + program, rc);
    }
    return result.getValue();
  }

  public synchronized BpfMap map(String mapName) throws BpfException {
    requireOpen(true);
    Pointer map = mapPointer(mapName);
    return new BpfMap(libbpf, mapName, libbpf.lib.bpf_map__fd(map), libbpf.lib.bpf_map__type(map),
        libbpf.lib.bpf_map__key_size(map), libbpf.lib.bpf_map__value_size(map),
        libbpf.lib.bpf_map__max_entries(map));
  }

  /** Names of the programs attached so far, one entry per link. */
  public synchronized List<String> attachedPrograms() {
    return List.copyOf(attached);
  }

  /** Destroys the links, then the object. Idempotent. */
  @Override
  public synchronized void close() {
    if (object == null) {
      return;
    }
    destroyAll(links);
    links.clear();
    attached.clear();
    libbpf.lib.bpf_object__close(object);
    object = null;
  }

  /**
   * Destroys links side by side. The kernel waits for a grace period before a uprobe is gone and
   * serializes much of it: measured here, 30 links took 3.3 s one after the other and 2.6 s side
   * by side.
   */
  private void destroyAll(List<Pointer> toDestroy) {
    if (toDestroy.size() <= 1) {
      toDestroy.forEach(libbpf.lib::bpf_link__destroy);
      return;
    }
    List<Thread> threads = new ArrayList<>(toDestroy.size());
    for (Pointer link : toDestroy) {
      Thread t = new Thread(() -> libbpf.lib.bpf_link__destroy(link), "jvm-ebpf-agent-detach");
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

  private Pointer programPointer(String program) throws BpfException {
    Pointer p = libbpf.lib.bpf_object__find_program_by_name(object, program);
    if (p == null) {
      throw new BpfException(spec.name() + " has no program " + program, 0);
    }
    return p;
  }

  private Pointer mapPointer(String mapName) throws BpfException {
    Pointer p = libbpf.lib.bpf_object__find_map_by_name(object, mapName);
    if (p == null) {
      throw new BpfException(spec.name() + " has no map " + mapName, 0);
    }
    return p;
  }

  private void requireOpen(boolean mustBeLoaded) throws BpfException {
    if (object == null) {
      throw new BpfException(spec.name() + " is closed", 0);
    }
    if (mustBeLoaded != loaded) {
      throw new BpfException(spec.name() + (loaded ? " is already loaded" : " is not loaded yet"), 0);
    }
  }
}
