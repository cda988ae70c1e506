package dev.jvmebpf.agent;

import dev.jvmebpf.bpf.FamilySnapshot;
import dev.jvmebpf.bpf.ProbeFamily;
import dev.jvmebpf.bpf.events.EventStructs;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfPermissionException;
import dev.jvmebpf.bpf.libbpf.Errno;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.otel.KernelMetricProducer;
import io.opentelemetry.sdk.common.Clock;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * Loads the bundled libbpf and attaches every enabled family of {@link ProbeFamilies#ALL}, each
 * becoming a metric source of the producer. One family's failure leaves the others working.
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
   */
  record Result(String bpfOff, List<String> attached, List<String> problems, Libbpf libbpf, boolean stopped,
      SpanEvents events) {}

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
    return new Settings(scale, cardinality, atEntry, tracesExported ? Map.copyOf(thresholds) : Map.of(), perSecond);
  }

  /**
   * Attaches the enabled families.
   *
   * @param keep takes a live family to close at exit; false when shutdown already began (it
   *     then closed it)
   */
  static Result attach(AgentConfig config, Settings settings, AgentLog log, Path privateDir,
      KernelMetricProducer producer, Predicate<AutoCloseable> keep, BiConsumer<Libbpf, SpanEvents> beforeFamilies) {
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
      // What spans need besides the families, done before any family attaches: the GC family
      // attaches last, so that the agent allocates as little as possible between its probes'
      // attach and the moment it says it is on.
      beforeFamilies.accept(libbpf, events);
    }
    ProbeFamilies.AttachContext context = new ProbeFamilies.AttachContext(libbpf, jvm,
        HistogramLayout.nanosecondsAsSeconds(settings.scale()), HistogramLayout.create(settings.scale(), 1),
        settings.cardinality(), settings.libcAtEntry(), events, events != null ? settings.spanThresholds() : Map.of());
    List<String> on = new ArrayList<>();
    boolean stopped = !attachEach(attachOrder(), config, context, log, producer, keep, on, problems);
    if (events != null && (stopped || on.isEmpty())) {
      events.close(); // no reader will start; the families' objects keep the ring while they live
      events = null;
    }
    List<String> attached = ProbeFamilies.ALL.stream().map(ProbeFamilies.Family::name).filter(on::contains).toList();
    return new Result(stopped ? "stopping" : null, attached, problems, libbpf, stopped, events);
  }

  /**
   * Attaches each enabled family of {@code families}, adding its name to {@code on} or why it is
   * off to {@code problems}. Whatever one family throws switches off that family alone: an
   * unexpected exception is reported as its internal error and the next family attaches.
   *
   * @return false when shutdown began meanwhile (the rest is left unattached)
   */
  static boolean attachEach(List<ProbeFamilies.Family<?>> families, AgentConfig config,
      ProbeFamilies.AttachContext context, AgentLog log, KernelMetricProducer producer, Predicate<AutoCloseable> keep,
      List<String> on, List<String> problems) {
    for (ProbeFamilies.Family<?> family : families) {
      if (!config.getBoolean(family.configKey())) {
        continue;
      }
      try {
        if (!attachOne(family, context, log, producer, keep, problems)) {
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

  /**
   * The registry's order, but the GC family last: the agent's own start allocates and may collect
   * while the other families attach, and the GC counts then start as close as possible to the
   * moment the agent says it is on (the GC MXBeans' counts read at that moment are the baseline
   * the GC metrics agree with).
   */
  private static List<ProbeFamilies.Family<?>> attachOrder() {
    List<ProbeFamilies.Family<?>> order = new ArrayList<>(ProbeFamilies.ALL);
    order.sort(java.util.Comparator.comparing(f -> f.name().equals("gc")));
    return order;
  }

  private static <S extends FamilySnapshot> boolean attachOne(ProbeFamilies.Family<S> family,
      ProbeFamilies.AttachContext context, AgentLog log, KernelMetricProducer producer, Predicate<AutoCloseable> keep,
      List<String> problems) throws BpfException {
    long cpuBefore = StartCost.threadCpuNanos();
    long before = System.nanoTime();
    ProbeFamily<S> live = family.attacher().attach(context);
    log.debug(family.name() + ": attached in " + StartCost.since(before, cpuBefore));
    live.placements().forEach(p -> log.debug(family.name() + ": " + p.function() + "+" + p.offset()
        + (p.emulated() ? " (emulated)" : " (single-stepped)") + ": " + p.reason()));
    if (!keep.test(live)) {
      return false;
    }
    live.limitations().forEach(l -> problems.add(family.name() + ": " + l));
    producer.addSource(family.source(live, Clock.getDefault().now()));
    return true;
  }

  private static Result off(String why, Libbpf libbpf) {
    return new Result(why, List.of(), List.of(), libbpf, false, null);
  }
}
