package dev.jvmebpf.bpf;

import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfMap;
import dev.jvmebpf.bpf.libbpf.BpfObject;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.libc.ProbePlacement;
import java.util.List;

/**
 * One probe family, live: the BPF object it loaded with the links it attached, what it cannot
 * observe in this JVM, where its libc probes went, and snapshots of its aggregates. A family
 * (GcProbes, SocketProbes, ...) adds only its own programs, maps and snapshot; the lifecycle is
 * here: {@link #open} runs open → configure → load → attach and closes the object on any
 * failure; {@link #close} detaches once, from any thread, after which {@link #snapshot} fails
 * cleanly instead of reading a closed (or reused) map descriptor.
 *
 * @param <S> the family's snapshot
 */
public abstract class ProbeFamily<S extends FamilySnapshot> implements AutoCloseable {

  private final BpfObject object;
  private final BpfMap stats;
  private final List<String> programs;
  private final List<String> limitations;
  private final List<ProbePlacement> placements;
  // Guarded by this.
  private boolean closed;

  /**
   * @param object the loaded object, whose self-telemetry is the per-CPU array
   *     {@code <object>_stats} (struct probe_stats) indexed by program number
   * @param programs the programs' names, by number (the family header's enum)
   */
  protected ProbeFamily(BpfObject object, List<String> programs, List<String> limitations,
      List<ProbePlacement> placements) throws BpfException {
    this.object = object;
    this.stats = object.map(object.name() + "_stats");
    this.programs = List.copyOf(programs);
    this.limitations = List.copyOf(limitations);
    this.placements = List.copyOf(placements);
  }

  /** The steps between opening a family's object and having the family: configure, load, attach. */
  @FunctionalInterface
  protected interface Steps<F> {
    F run(BpfObject object) throws BpfException;
  }

  /**
   * Opens the object {@code <objectName>.bpf.o} and runs {@code steps} on it; whatever they
   * throw (a BpfException, a runtime exception, an error), the object and every link made so far
   * are closed before it propagates.
   */
  protected static <F> F open(Libbpf libbpf, String objectName, Steps<F> steps) throws BpfException {
    BpfObject object = BpfObject.open(libbpf, objectName);
    try {
      return steps.run(object);
    } catch (Throwable e) {
      object.close();
      throw e;
    }
  }

  /**
   * {@link #open(Libbpf, String, Steps)} with the object configured first: its config record
   * set and its maps sized.
   */
  protected static <F> F open(Libbpf libbpf, String objectName, FamilyConfig config, Steps<F> steps)
      throws BpfException {
    return open(libbpf, objectName, object -> {
      config.applyTo(object);
      return steps.run(object);
    });
  }

  /** The BPF object's name, e.g. "gc". */
  public final String objectName() {
    return object.name();
  }

  /** What this JVM does not let the family observe, one message each; empty when everything works. */
  public final List<String> limitations() {
    return limitations;
  }

  /** Where each libc function was probed and why; empty for families that probe libjvm only. */
  public final List<ProbePlacement> placements() {
    return placements;
  }

  /** Programs attached, one entry per link. */
  public final synchronized List<String> attachedPrograms() {
    return closed ? List.of() : object.attachedPrograms();
  }

  /**
   * Reads the kernel's aggregates: O(series x buckets), however many events happened.
   *
   * @throws BpfException when the family is closed, or a map cannot be read
   */
  public final synchronized S snapshot() throws BpfException {
    if (closed) {
      throw new BpfException(object.name() + " probes are closed", 0);
    }
    return read();
  }

  /**
   * Starts the family's counts. Most families count from their attach and do nothing here; a
   * family whose counts are compared with the JVM's own from a chosen instant (GcProbes: the GC
   * MXBeans' counts at the moment the agent says it is on) counts nothing until this is called.
   * Idempotent.
   *
   * @throws BpfException when the family is closed, or its gate cannot be written
   */
  public final synchronized void startCounting() throws BpfException {
    if (closed) {
      throw new BpfException(object.name() + " probes are closed", 0);
    }
    openGate();
  }

  /** What {@link #startCounting()} does for this family; nothing unless it overrides this. */
  protected void openGate() throws BpfException {}

  /** The family's own reading of its maps; called with this family's lock held, never after close. */
  protected abstract S read() throws BpfException;

  /** Each program's self-telemetry, for the family's snapshot. */
  protected final List<ProbeStats> probeStats() throws BpfException {
    return ProbeStats.read(stats, programs);
  }

  /** What the family holds besides its BPF object; called once, at close. */
  protected void release() {}

  /** Detaches every probe and frees the programs and maps. Idempotent, thread-safe. */
  @Override
  public final synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      object.close();
    } finally {
      release();
    }
  }
}
