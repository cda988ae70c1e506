package dev.jvmebpf.agent;

import dev.jvmebpf.bpf.FamilySnapshot;
import dev.jvmebpf.bpf.KernelVersion;
import dev.jvmebpf.bpf.ProbeFamily;
import dev.jvmebpf.bpf.ProbeRequirements;
import dev.jvmebpf.bpf.dns.DnsProbes;
import dev.jvmebpf.bpf.events.EventStructs;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.gc.GcCollectors;
import dev.jvmebpf.bpf.gc.GcProbes;
import dev.jvmebpf.bpf.heapalloc.AllocationProbes;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.nativealloc.NativeAllocationProbes;
import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.bpf.safepoint.SafepointProbes;
import dev.jvmebpf.bpf.socket.SocketProbes;
import dev.jvmebpf.otel.AllocationMetrics;
import dev.jvmebpf.otel.DnsMetrics;
import dev.jvmebpf.otel.GcMetrics;
import dev.jvmebpf.otel.MetricContext;
import dev.jvmebpf.otel.MetricSource;
import dev.jvmebpf.otel.NativeAllocationMetrics;
import dev.jvmebpf.otel.ProbeMetrics;
import dev.jvmebpf.otel.SafepointMetrics;
import dev.jvmebpf.otel.SocketMetrics;
import io.opentelemetry.sdk.metrics.data.MetricData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Every probe family the agent knows, listed once: its configuration key and default, what
 * {@code doctor} checks for it, how it attaches, and which metrics its snapshots become. The
 * lifecycle, the configuration and {@code doctor} all read this list. Adding a family is its own
 * files (in bpf-uprobes: {@code x.bpf.c}, {@code x.h}, {@code XStructs}, {@code XSnapshot},
 * {@code XProbes}; in otel-bridge: {@code XMetrics}) and one line here.
 */
public final class ProbeFamilies {

  private ProbeFamilies() {}

  /**
   * What attaching a family takes from the agent.
   *
   * @param durations histogram layout for durations in nanoseconds
   * @param sizes histogram layout for sizes in bytes
   * @param cardinality distinct attribute values per metric before "other"
   * @param libcAtEntry libc functions probed at offset 0 instead of where decoding says
   * @param events the span ring buffer the families share; null when spans are off
   * @param spanThresholds by span name ({@code spans.<name>}), the duration in nanoseconds from which
   *     those events become spans (0: every one; EventStructs.SPANS_OFF or absent: none)
   */
  public record AttachContext(Libbpf libbpf, JvmProcess jvm, HistogramLayout durations, HistogramLayout sizes,
      int cardinality, boolean libcAtEntry, SpanEvents events, Map<String, Long> spanThresholds,
      SocketIo socketIo) {

    /** Without a timing point in the JDK's sockets: the socket family probes libc. */
    public AttachContext(Libbpf libbpf, JvmProcess jvm, HistogramLayout durations, HistogramLayout sizes,
        int cardinality, boolean libcAtEntry, SpanEvents events, Map<String, Long> spanThresholds) {
      this(libbpf, jvm, durations, sizes, cardinality, libcAtEntry, events, spanThresholds, null);
    }

    /** The socket family's receives and transmits from the JDK's sockets, when configured and possible; else null. */
    public SocketProbes.IoSource jdkSocketIo() {
      return socketIo == null ? null : socketIo.install(libbpf, durations, sizes, cardinality);
    }

    /** The threshold of the spans {@code name}; EventStructs.SPANS_OFF when off. */
    public long spanMinNanos(String name) {
      return spanThresholds.getOrDefault(name, EventStructs.SPANS_OFF);
    }
  }

  /**
   * One span threshold of a family: configuration key {@code spans.<name>}.
   *
   * @param defaultValue a duration ("0": every event) or "off"
   * @param what the events it applies to, for the configuration reference
   */
  public record Spans(String name, String defaultValue, String what) {

    public String key() {
      return "spans." + name;
    }
  }

  /**
   * Installs the timing point in the JDK's socket implementation (configuration
   * {@code socket.timing=jdk}); returns null, having said why, when it is not configured or
   * cannot be installed.
   */
  @FunctionalInterface
  public interface SocketIo {
    SocketProbes.IoSource install(Libbpf libbpf, HistogramLayout durations, HistogramLayout sizes, int peerLimit);
  }

  /** Loads and attaches one family. */
  @FunctionalInterface
  public interface Attacher<S extends FamilySnapshot> {
    ProbeFamily<S> attach(AttachContext context) throws BpfException;
  }

  /** A family's snapshot as metrics (otel-bridge's XMetrics.of). */
  @FunctionalInterface
  public interface Metrics<S> {
    List<MetricData> of(S snapshot, MetricContext context);
  }

  /**
   * One family.
   *
   * @param name its name in the configuration key {@code probes.<name>}, the status line and doctor
   * @param onByDefault whether it is on unless configured off
   * @param description one line for the configuration reference
   * @param spans the family's span thresholds: for each, its name in {@code spans.<name>}, its
   *     default (a duration, or "off") and what it applies to; empty when the family emits no spans
   */
  public record Family<S extends FamilySnapshot>(String name, boolean onByDefault, String description,
      ProbeRequirements needs, Attacher<S> attacher, Metrics<S> metrics, List<Spans> spans) {

    public Family(String name, boolean onByDefault, String description, ProbeRequirements needs,
        Attacher<S> attacher, Metrics<S> metrics) {
      this(name, onByDefault, description, needs, attacher, metrics, List.of());
    }

    public String configKey() {
      return "probes." + name;
    }

    /** Throws "needs Linux X.Y or later ..." when the running kernel is older than the family's programs need. */
    public void requireKernel() throws BpfException {
      if (needs == null) {
        return; // nothing declared
      }
      String release;
      try {
        release = KernelVersion.runningRelease();
      } catch (java.io.IOException e) {
        return; // unknown: the kernel itself will say what it lacks
      }
      needs.requireKernel(release);
    }


    /** The live family's metrics and its programs' self-telemetry, read at each collection. */
    public MetricSource source(ProbeFamily<S> live, long startEpochNanos) {
      return MetricSource.of(name, startEpochNanos, context -> {
        S snapshot = live.snapshot();
        List<MetricData> out = new ArrayList<>(metrics.of(snapshot, context));
        out.addAll(ProbeMetrics.of(snapshot.probes(), context));
        return out;
      });
    }
  }

  public static final List<Family<?>> ALL = List.of(
      new Family<>("gc", true, "GC collections and pauses (USDT in libjvm)", GcProbes.NEEDS,
          c -> GcProbes.attach(c.libbpf(), c.jvm(), GcCollectors.ofThisJvm(), c.durations(), c.events(),
              c.spanMinNanos("gc")), GcMetrics::of,
          List.of(new Spans("gc", "0", "GC collections lasting at least this long"))),
      new Family<>("safepoint", true, "safepoints and time to safepoint (USDT in libjvm)", SafepointProbes.NEEDS,
          c -> SafepointProbes.attach(c.libbpf(), c.jvm(), c.durations(), c.cardinality(), c.events(),
              c.spanMinNanos("safepoint")), SafepointMetrics::of,
          List.of(new Spans("safepoint", "10ms", "safepoints lasting at least this long"))),
      new Family<>("allocation", true,
          "heap allocation: TLAB and outside-TLAB sizes, bytes by thread and class (uprobes in libjvm)",
          AllocationProbes.NEEDS, c -> AllocationProbes.attach(c.libbpf(), c.jvm(), c.sizes(), c.cardinality()),
          AllocationMetrics::of),
      new Family<>("native", false,
          "native allocation through libc malloc/free/mmap (uprobes in libc; adds microseconds to each call)",
          NativeAllocationProbes.NEEDS, c -> NativeAllocationProbes.attach(c.libbpf(), c.jvm(), c.sizes(),
              NativeAllocationProbes.DEFAULT_LIVE_BLOCKS, c.libcAtEntry()), NativeAllocationMetrics::of),
      new Family<>("socket", true,
          "socket I/O and connects: durations, sizes, errors by peer (TCP timed in the JDK's sockets, UDP and "
              + "connects by uprobes in libc; see socket.timing)", SocketProbes.NEEDS,
          c -> SocketProbes.attach(c.libbpf(), c.jvm(), c.durations(), c.sizes(), c.cardinality(), c.libcAtEntry(),
              c.events(), c.spanMinNanos("socket"), c.spanMinNanos("connect"), c.jdkSocketIo()),
          SocketMetrics::of, List.of(new Spans("socket", "100ms", "socket receives and transmits lasting at least this long"),
              new Spans("connect", "100ms", "connects lasting at least this long, and every failed one"))),
      new Family<>("dns", true, "name lookups: getaddrinfo durations by name and result (uprobes in libc)",
          DnsProbes.NEEDS, c -> DnsProbes.attach(c.libbpf(), c.jvm(), c.durations(), c.cardinality(),
              c.libcAtEntry(), c.events(), c.spanMinNanos("dns")), DnsMetrics::of,
          List.of(new Spans("dns", "50ms", "name lookups lasting at least this long, and every failed one"))));
}
