package dev.jvmebpf.agent;

import dev.jvmebpf.bpf.FamilySnapshot;
import dev.jvmebpf.bpf.ProbeFamily;
import dev.jvmebpf.bpf.elf.ElfFile;
import dev.jvmebpf.bpf.events.EventStructs;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.gc.GcProbes;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfPermissionException;
import dev.jvmebpf.bpf.libbpf.Errno;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.otel.KernelMetricProducer;
import dev.jvmebpf.otel.MetricSource;
import io.opentelemetry.sdk.common.Clock;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.LongFunction;
import java.util.function.Predicate;

/**
 * Loads the bundled libbpf and attaches every enabled family of {@link ProbeFamilies#ALL}, each
 * becoming a metric source of the producer once its counts start. One family's failure leaves the
 * others working.
 */
final class ProbeLoader {

  /**
   * The validated settings the families attach with.
   *
   * @param spanThresholds by span name, from which duration (ns) those events become spans; empty when
   *     no spans are wanted (traces exporter none, or every family's spans off)
   * @param spansPerSecond the most spans per second per family
   */
  record Settings(int scale, int cardinality, boolean libcAtEntry, Map<String, Long> spanThresholds,
      int spansPerSecond) {

    boolean spans() {
      return !spanThresholds.isEmpty();
    }
  }

  /**
   * What attaching gave.
   *
   * @param bpfOff why eBPF is off altogether, or null
   * @param attached the families on
   * @param problems one message per family off or limited
   * @param libbpf the loaded library, null when it could not be loaded
   * @param stopped the agent began stopping meanwhile
   * @param events the span ring buffer the families write into, for the caller to read and close;
   *     null when spans are off
   * @param starts the families attached, whose counts {@link #startCounting} starts
   */
  record Result(String bpfOff, List<String> attached, List<String> problems, Libbpf libbpf, boolean stopped,
      SpanEvents events, List<Start> starts) {

    /**
     * Starts every attached family's counts and hands its metrics to {@code producer}, each
     * cumulative from this moment. The agent calls it last, just before it says it is on: the GC
     * family counts nothing before (see {@link ProbeFamily#startCounting()}), so a collection set
     * off meanwhile by the agent's own start is neither in its counts nor after the GC MXBeans'
     * counts read when the agent is on. A family that cannot start adds a problem and exports nothing.
     */
    void startCounting(KernelMetricProducer producer) {
      for (Start start : starts) {
        long from = Clock.getDefault().now(); // before the gate: whatever is counted began after it
        try {
          start.live().startCounting();
          if (start.live() instanceof GcProbes gc) {
            gc.countedAfter().ifPresent(AgentStatus::setGcCountedAfter);
          }
          producer.addSource(start.source().apply(from));
        } catch (BpfException | RuntimeException e) {
          problems.add(start.live().objectName() + " off: its counts did not start: " + e.getMessage());
        }
      }
    }
  }

  /** An attached family whose counts {@link Result#startCounting} starts, and its metrics from a start time. */
  record Start(ProbeFamily<?> live, LongFunction<MetricSource> source) {}

  private ProbeLoader() {}

  /**
   * Validates every probe setting before anything is attached; IllegalArgumentException names the key.
   *
   * @param tracesExported whether the SDK will export spans (its traces exporter is not none)
   */
  static Settings settings(AgentConfig config, boolean tracesExported) {
    int scale = config.getInt("scale", HistogramLayout.MIN_SCALE, HistogramLayout.MAX_SCALE);
    int cardinality = config.getInt("cardinality.limit", 1, 4096);
    Map<String, Long> thresholds = new LinkedHashMap<>();
    for (ProbeFamilies.Family<?> family : ProbeFamilies.ALL) {
      boolean on = config.getBoolean(family.configKey());
      for (ProbeFamilies.Spans spans : family.spans()) {
        long threshold = config.spanThresholdNanos(spans.key());
        if (on && threshold != EventStructs.SPANS_OFF) {
          thresholds.put(spans.name(), threshold);
        }
      }
    }
    int perSecond = config.getInt("spans.rate", 1, 1_000_000);
    boolean atEntry = config.getChoice("probes.placement", "decoded", "entry").equals("entry");
    config.getChoice("socket.timing", "libc", "jdk"); // checked here with the rest; read where it applies
    return new Settings(scale, cardinality, atEntry, tracesExported ? Map.copyOf(thresholds) : Map.of(), perSecond);
  }

  /**
   * Attaches the enabled families.
   *
   * @param keep takes a live family to close at exit; false when shutdown already began (it
   *     then closed it)
   */
  static Result attach(AgentConfig config, Settings settings, AgentLog log, Path privateDir,
      Predicate<AutoCloseable> keep, BiConsumer<Libbpf, SpanEvents> beforeFamilies) {
    return attach(config, settings, log, privateDir, keep, beforeFamilies, null);
  }

  /** The same, with the socket family's timing point in the JDK's sockets when {@code socketIo} gives one. */
  static Result attach(AgentConfig config, Settings settings, AgentLog log, Path privateDir,
      Predicate<AutoCloseable> keep, BiConsumer<Libbpf, SpanEvents> beforeFamilies,
      ProbeFamilies.SocketIo socketIo) {
    Libbpf libbpf = null;
    JvmProcess jvm;
    try {
      long cpuBefore = StartCost.threadCpuNanos();
      long before = System.nanoTime();
      libbpf = Libbpf.load(privateDir);
      if (log.isDebug()) {
        libbpf.setLogListener((level, message) -> log.debug("libbpf: " + message));
      }
      int probe = libbpf.probeUprobePrograms();
      if (probe != 1) {
        return off("cannot load BPF programs: " + libbpf.describe(-probe)
            + (-probe == Errno.EPERM || -probe == Errno.EACCES ? "; " + BpfPermissionException.HOW_TO_GRANT : ""),
            libbpf);
      }
      jvm = JvmProcess.current();
      log.debug("libbpf loaded and probed, process read, in " + StartCost.since(before, cpuBefore));
    } catch (BpfException | IOException e) {
      return off(e.getMessage(), libbpf);
    }
    log.debug("libbpf from " + libbpf.path() + ", " + jvm);
    lookUpSymbols(config, jvm, libbpf);
    List<String> problems = new ArrayList<>();
    SpanEvents events = null;
    if (settings.spans()) {
      try {
        events = SpanEvents.create(libbpf, SpanEvents.DEFAULT_BYTES);
      } catch (BpfException e) {
        problems.add("spans off: " + e.getMessage());
      }
    }
    if (events != null) {
      // What spans need besides the families, done before any family attaches.
      beforeFamilies.accept(libbpf, events);
    }
    ProbeFamilies.AttachContext context = new ProbeFamilies.AttachContext(libbpf, jvm,
        HistogramLayout.nanosecondsAsSeconds(settings.scale()), HistogramLayout.create(settings.scale(), 1),
        settings.cardinality(), settings.libcAtEntry(), events, events != null ? settings.spanThresholds() : Map.of(),
        socketIo);
    List<String> on = new ArrayList<>();
    List<Start> starts = new ArrayList<>();
    boolean stopped;
    libbpf.shareKernelBtf(true); // the socket and DNS objects both relocate against it
    try {
      stopped = !attachEach(ProbeFamilies.ALL, config, context, log, starts, keep, on, problems);
    } finally {
      libbpf.shareKernelBtf(false);
    }
    if (events != null && (stopped || on.isEmpty())) {
      events.close(); // no reader will start; the families' objects keep the ring while they live
      events = null;
    }
    List<String> attached = new ArrayList<>(); // in the registry's order; a loop: a stream's toList spins a class
    for (ProbeFamilies.Family family : ProbeFamilies.ALL) {
      if (on.contains(family.name())) {
        attached.add(family.name());
      }
    }
    return new Result(stopped ? "stopping" : null, List.copyOf(attached), problems, libbpf, stopped, events, starts);
  }

  /**
   * Looks up, in one read of each library's symbol tables, the symbols every enabled family will
   * ask for (the tables remember them); a family that finds a library unreadable says so itself.
   * The tables are scanned by our native library: libjvm's 5 MB of them stay out of the heap.
   */
  private static void lookUpSymbols(AgentConfig config, JvmProcess jvm, Libbpf libbpf) {
    Set<String> libjvm = new LinkedHashSet<>();
    Set<String> libc = new LinkedHashSet<>();
    for (ProbeFamilies.Family<?> family : ProbeFamilies.ALL) {
      if (config.getBoolean(family.configKey())) {
        libjvm.addAll(family.needs().libjvmSymbols().values());
        libc.addAll(family.needs().libcFunctions());
      }
    }
    ElfFile.TableScan scan = (file, type, definedOnly, names, found, out) ->
        libbpf.scanSymbols(file, type, definedOnly, names, found, out);
    try {
      if (!libjvm.isEmpty()) {
        jvm.libjvmElf().symbols(libjvm, scan);
      }
      if (!libc.isEmpty() && jvm.libc().isPresent()) {
        jvm.libcElf().symbols(libc, scan);
      }
    } catch (IOException e) {
      // Each family reads the library again and reports what fails.
    }
  }

  /**
   * Attaches each enabled family of {@code families}, adding its name to {@code on} or why it is
   * off to {@code problems}. Whatever one family throws switches off that family alone: an
   * unexpected exception is reported as its internal error and the next family attaches.
   *
   * @param starts takes each family attached, for {@link Result#startCounting}
   * @return false when shutdown began meanwhile (the rest is left unattached)
   */
  static boolean attachEach(List<ProbeFamilies.Family<?>> families, AgentConfig config,
      ProbeFamilies.AttachContext context, AgentLog log, List<Start> starts, Predicate<AutoCloseable> keep,
      List<String> on, List<String> problems) {
    for (ProbeFamilies.Family<?> family : families) {
      if (!config.getBoolean(family.configKey())) {
        continue;
      }
      try {
        if (!attachOne(family, context, log, starts, keep, problems)) {
          return false;
        }
        on.add(family.name());
      } catch (BpfException e) {
        problems.add(family.name() + " off: " + e.getMessage());
      } catch (RuntimeException | LinkageError e) {
        problems.add(family.name() + " off: internal error: " + e);
      }
    }
    return true;
  }

  private static <S extends FamilySnapshot> boolean attachOne(ProbeFamilies.Family<S> family,
      ProbeFamilies.AttachContext context, AgentLog log, List<Start> starts, Predicate<AutoCloseable> keep,
      List<String> problems) throws BpfException {
    long cpuBefore = StartCost.threadCpuNanos();
    long before = System.nanoTime();
    family.requireKernel();
    ProbeFamily<S> live = family.attacher().attach(context);
    log.debug(family.name() + ": attached in " + StartCost.since(before, cpuBefore));
    live.placements().forEach(p -> log.debug(family.name() + ": " + p.function() + "+" + p.offset()
        + (p.emulated() ? " (emulated)" : " (single-stepped)") + ": " + p.reason()));
    if (!keep.test(live)) {
      return false;
    }
    live.limitations().forEach(l -> problems.add(family.name() + ": " + l));
    starts.add(new Start(live, from -> family.source(live, from)));
    return true;
  }

  private static Result off(String why, Libbpf libbpf) {
    return new Result(why, List.of(), List.of(), libbpf, false, null, List.of());
  }
}
