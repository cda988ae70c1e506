package dev.jvmebpf.agent;

import dev.jvmebpf.agent.otel.OpenTelemetrySetup;
import dev.jvmebpf.bpf.heapalloc.AllocationProbes;
import dev.jvmebpf.bpf.heapalloc.AllocationSnapshot;
import dev.jvmebpf.bpf.nativealloc.NativeAllocationProbes;
import dev.jvmebpf.bpf.nativealloc.NativeAllocationSnapshot;
import dev.jvmebpf.bpf.gc.GcCollectors;
import dev.jvmebpf.bpf.gc.GcProbes;
import dev.jvmebpf.bpf.gc.GcSnapshot;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfPermissionException;
import dev.jvmebpf.bpf.libbpf.Errno;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.dns.DnsProbes;
import dev.jvmebpf.bpf.dns.DnsSnapshot;
import dev.jvmebpf.bpf.socket.SocketProbes;
import dev.jvmebpf.bpf.socket.SocketSnapshot;
import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.bpf.safepoint.SafepointProbes;
import dev.jvmebpf.bpf.safepoint.SafepointSnapshot;
import dev.jvmebpf.bpf.libc.ProbePlacement;
import dev.jvmebpf.otel.AllocationMetrics;
import dev.jvmebpf.otel.DnsMetrics;
import dev.jvmebpf.otel.GcMetrics;
import dev.jvmebpf.otel.KernelMetricData;
import dev.jvmebpf.otel.KernelMetricProducer;
import dev.jvmebpf.otel.MetricContext;
import dev.jvmebpf.otel.MetricSource;
import dev.jvmebpf.otel.NativeAllocationMetrics;
import dev.jvmebpf.otel.ProbeMetrics;
import dev.jvmebpf.otel.SafepointMetrics;
import dev.jvmebpf.otel.SocketMetrics;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.Clock;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.SumData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The agent's lifecycle in one JVM: configure, start the OpenTelemetry SDK, load and attach the
 * probe families, export on the SDK's interval, and at exit flush once and detach everything.
 *
 * <p>Whatever fails becomes one status line and a degraded mode: without BPF, GC metrics come
 * from the MXBeans; a family that cannot attach leaves the others working; a bad configuration
 * leaves the application alone. Nothing is thrown into the application.
 */
final class AgentRuntime {

  /** Read by tests and tools: "on: gc, safepoint, allocation", "degraded: ...", "off: ...". */
  static final String STATUS_PROPERTY = "jvm.ebpf.agent.status";
  /**
   * The {@code attach.id} the attach command passed, published once the status belongs to that
   * start: the command waits for its own id before it believes the status.
   */
  static final String ATTACH_ID_PROPERTY = "jvm.ebpf.agent.attach.id";
  static final long SHUTDOWN_WAIT_MILLIS = 5_000;

  private static final Object LOCK = new Object();
  private static AgentRuntime running;

  private final AgentConfig config;
  private final AgentLog log;
  private final Path privateDir;
  private final String version;
  private OpenTelemetrySetup.Telemetry telemetry;
  private Libbpf libbpf;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private boolean stopped;
  /** probes.placement=entry: libc functions probed at offset 0 instead of where decoding says. */
  private boolean libcProbesAtEntry;

  private AgentRuntime(AgentConfig config, AgentLog log, Path privateDir, String version) {
    this.config = config;
    this.log = log;
    this.privateDir = privateDir;
    this.version = version;
  }

  /** Called on the agent's init thread. */
  static void start(String arguments, String entry, Path privateDir, String version) {
    AgentConfig config;
    AgentLog log;
    try {
      config = AgentConfig.fromAgentArguments(arguments);
      log = new AgentLog(System.err, config.getBoolean("debug"));
    } catch (IllegalArgumentException e) {
      new AgentLog(System.err, false).status("not started: " + e.getMessage());
      setStatus("off: " + e.getMessage());
      publishAttachId(arguments);
      return;
    }
    AgentRuntime runtime;
    synchronized (LOCK) {
      if (running != null) {
        log.status("already running in this JVM; the second start (" + entry + ") is ignored");
        publishAttachId(arguments);
        return;
      }
      runtime = new AgentRuntime(config, log, privateDir, version);
      running = runtime;
    }
    try {
      runtime.run();
    } catch (Throwable e) {
      log.status("stopped after an internal error: " + e);
      setStatus("off: internal error: " + e);
      stopRunning("internal error");
    }
  }

  /** Stops the running agent, if any; afterwards a new start is possible. Never throws. */
  static void stopRunning(String why) {
    AgentRuntime runtime;
    synchronized (LOCK) {
      runtime = running;
    }
    if (runtime == null) {
      return;
    }
    try {
      runtime.shutdown();
    } catch (Throwable e) {
      runtime.log.status("stopping (" + why + ") failed: " + e);
    } finally {
      synchronized (LOCK) {
        if (running == runtime) {
          running = null;
        }
      }
    }
  }

  /** The detach command's request: stop, say so, publish its attach id. */
  static void detach(String arguments) {
    AgentLog log;
    synchronized (LOCK) {
      log = running != null ? running.log : null;
    }
    stopRunning("detach");
    if (log != null) {
      log.status("detached: every probe removed; the application goes on without the agent");
    }
    setStatus("detached");
    publishAttachId(arguments);
  }

  private void run() {
    setStatus("starting");
    config.get("attach.id").ifPresent(AgentRuntime::setAttachId);
    int scale;
    int cardinality;
    try {
      scale = config.getInt("scale", HistogramLayout.MIN_SCALE, HistogramLayout.MAX_SCALE);
      cardinality = config.getInt("cardinality.limit", 1, 4096);
      for (String key : AgentConfig.KEYS.keySet()) {
        if (key.startsWith("probes.") && !key.equals("probes.placement")) {
          config.getBoolean(key);
        }
      }
      libcProbesAtEntry = config.getChoice("probes.placement", "decoded", "entry").equals("entry");
    } catch (IllegalArgumentException e) {
      log.status("not started: " + e.getMessage());
      setStatus("off: " + e.getMessage());
      stopRunning("not started");
      return;
    }
    HistogramLayout layout = HistogramLayout.nanosecondsAsSeconds(scale);
    HistogramLayout bytesLayout = HistogramLayout.create(scale, 1);
    String temporalityName = config.openTelemetry("otel.exporter.otlp.metrics.temporality.preference")
        .orElse("cumulative").toLowerCase(Locale.ROOT);
    AggregationTemporality temporality = temporalityName.equals("cumulative")
        ? AggregationTemporality.CUMULATIVE : AggregationTemporality.DELTA;
    KernelMetricProducer producer = new KernelMetricProducer(
        InstrumentationScopeInfo.builder("jvm-ebpf-agent").setVersion(version).build(), temporality,
        Clock.getDefault(), (source, e) -> log.debug("reading " + source.name() + " failed: " + e));

    log.captureSdkLogging();
    try {
      telemetry = OpenTelemetrySetup.create(config, producer, log, version);
    } catch (RuntimeException e) {
      log.status("not started: the OpenTelemetry configuration is invalid: " + e.getMessage());
      setStatus("off: " + e.getMessage());
      stopRunning("not started");
      return;
    }
    long start = Clock.getDefault().now();
    if (telemetry.exportHealth() != null) {
      producer.addSource(MetricSource.of("export", start, context -> List.of(exportFailures(context))));
    }

    List<String> attached = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    String bpfOff = attachProbes(layout, bytesLayout, cardinality, producer, attached, problems);
    if (bpfOff != null || !attached.contains("gc")) {
      JmxGcFallback fallback = JmxGcFallback.start(layout);
      register(fallback);
      producer.addSource(MetricSource.of("gc-mxbeans", Clock.getDefault().now(),
          context -> GcMetrics.of(fallback.snapshot(), context)));
    }

    String exporting = "exporting to " + telemetry.destination() + " every "
        + config.exportInterval().toSeconds() + "s";
    if (bpfOff != null) {
      log.status("jvm-ebpf-agent " + version + ": eBPF off (" + bpfOff + "); jvm.gc.duration comes from the GC "
          + "MXBeans meanwhile (millisecond resolution, no safepoint metrics); " + exporting);
      setStatus("degraded: " + bpfOff);
    } else {
      String line = "jvm-ebpf-agent " + version + ": eBPF on, probes " + (attached.isEmpty() ? "none" : String.join(", ", attached));
      if (!problems.isEmpty()) {
        line += "; " + String.join("; ", problems);
      }
      log.status(line + "; " + exporting);
      setStatus((problems.isEmpty() ? "on: " : "partial: ") + String.join(", ", attached));
    }
  }

  /** Attaches each enabled family; returns why eBPF is off altogether, or null. */
  private String attachProbes(HistogramLayout layout, HistogramLayout bytesLayout, int cardinality,
      KernelMetricProducer producer,
      List<String> attached, List<String> problems) {
    Libbpf libbpf;
    JvmProcess jvm;
    try {
      libbpf = Libbpf.load(privateDir);
      this.libbpf = libbpf;
      if (log.isDebug()) {
        libbpf.setLogListener((level, message) -> log.debug("libbpf: " + message));
      }
      int probe = libbpf.probeUprobePrograms();
      if (probe != 1) {
        return "cannot load BPF programs: " + libbpf.describe(-probe)
            + (-probe == Errno.EPERM || -probe == Errno.EACCES ? "; " + BpfPermissionException.HOW_TO_GRANT : "");
      }
      jvm = JvmProcess.current();
    } catch (BpfException | IOException e) {
      return e.getMessage();
    }
    log.debug("libbpf from " + libbpf.path() + ", " + jvm);

    if (config.getBoolean("probes.gc")) {
      try {
        GcProbes gc = GcProbes.attach(libbpf, jvm, GcCollectors.ofThisJvm(), layout);
        if (!register(gc)) {
          return "stopping";
        }
        gc.attachFailures().forEach(f -> problems.add("gc pauses of ZGC/Shenandoah unavailable: " + f));
        producer.addSource(MetricSource.of("gc", Clock.getDefault().now(), context -> {
          GcSnapshot snapshot = gc.snapshot();
          List<MetricData> out = new ArrayList<>(GcMetrics.of(snapshot, context));
          out.addAll(ProbeMetrics.of(snapshot.probes(), context));
          return out;
        }));
        attached.add("gc");
      } catch (BpfException e) {
        problems.add("gc off: " + e.getMessage());
      }
    }
    if (config.getBoolean("probes.safepoint")) {
      try {
        SafepointProbes safepoints = SafepointProbes.attach(libbpf, jvm, layout, cardinality);
        if (!register(safepoints)) {
          return "stopping";
        }
        safepoints.limitations().forEach(l -> problems.add("safepoint: " + l));
        producer.addSource(MetricSource.of("safepoint", Clock.getDefault().now(), context -> {
          SafepointSnapshot snapshot = safepoints.snapshot();
          List<MetricData> out = new ArrayList<>(SafepointMetrics.of(snapshot, context));
          out.addAll(ProbeMetrics.of(snapshot.probes(), context));
          return out;
        }));
        attached.add("safepoint");
      } catch (BpfException e) {
        problems.add("safepoint off: " + e.getMessage());
      }
    }
    if (config.getBoolean("probes.allocation")) {
      try {
        AllocationProbes allocation = AllocationProbes.attach(libbpf, jvm, bytesLayout, cardinality);
        if (!register(allocation)) {
          return "stopping";
        }
        allocation.limitations().forEach(l -> problems.add("allocation: " + l));
        producer.addSource(MetricSource.of("allocation", Clock.getDefault().now(), context -> {
          AllocationSnapshot snapshot = allocation.snapshot();
          List<MetricData> out = new ArrayList<>(AllocationMetrics.of(snapshot, context));
          out.addAll(ProbeMetrics.of(snapshot.probes(), context));
          return out;
        }));
        attached.add("allocation");
      } catch (BpfException e) {
        problems.add("allocation off: " + e.getMessage());
      }
    }
    if (config.getBoolean("probes.native")) {
      try {
        NativeAllocationProbes nativeAllocation = NativeAllocationProbes.attach(libbpf, jvm, bytesLayout,
            NativeAllocationProbes.DEFAULT_LIVE_BLOCKS, libcProbesAtEntry);
        logPlacements("native", nativeAllocation.placements());
        if (!register(nativeAllocation)) {
          return "stopping";
        }
        producer.addSource(MetricSource.of("native", Clock.getDefault().now(), context -> {
          NativeAllocationSnapshot snapshot = nativeAllocation.snapshot();
          List<MetricData> out = new ArrayList<>(NativeAllocationMetrics.of(snapshot, context));
          out.addAll(ProbeMetrics.of(snapshot.probes(), context));
          return out;
        }));
        attached.add("native");
      } catch (BpfException e) {
        problems.add("native off: " + e.getMessage());
      }
    }
    if (config.getBoolean("probes.socket")) {
      try {
        SocketProbes sockets = SocketProbes.attach(libbpf, jvm, layout, bytesLayout, cardinality, libcProbesAtEntry);
        logPlacements("socket", sockets.placements());
        if (!register(sockets)) {
          return "stopping";
        }
        sockets.limitations().forEach(l -> problems.add("socket: " + l));
        producer.addSource(MetricSource.of("socket", Clock.getDefault().now(), context -> {
          SocketSnapshot snapshot = sockets.snapshot();
          List<MetricData> out = new ArrayList<>(SocketMetrics.of(snapshot, context));
          out.addAll(ProbeMetrics.of(snapshot.probes(), context));
          return out;
        }));
        attached.add("socket");
      } catch (BpfException e) {
        problems.add("socket off: " + e.getMessage());
      }
    }
    if (config.getBoolean("probes.dns")) {
      try {
        DnsProbes dns = DnsProbes.attach(libbpf, jvm, layout, cardinality, libcProbesAtEntry);
        logPlacements("dns", dns.placements());
        if (!register(dns)) {
          return "stopping";
        }
        producer.addSource(MetricSource.of("dns", Clock.getDefault().now(), context -> {
          DnsSnapshot snapshot = dns.snapshot();
          List<MetricData> out = new ArrayList<>(DnsMetrics.of(snapshot, context));
          out.addAll(ProbeMetrics.of(snapshot.probes(), context));
          return out;
        }));
        attached.add("dns");
      } catch (BpfException e) {
        problems.add("dns off: " + e.getMessage());
      }
    }
    return null;
  }

  private void logPlacements(String family, List<ProbePlacement> placements) {
    placements.forEach(p -> log.debug(family + ": " + p.function() + "+" + p.offset()
        + (p.emulated() ? " (emulated)" : " (single-stepped)") + ": " + p.reason()));
  }

  private MetricData exportFailures(MetricContext context) {
    LongPointData point = LongPointData.create(context.startEpochNanos(), context.epochNanos(), Attributes.empty(),
        telemetry.exportHealth().failures());
    return new KernelMetricData(context.resource(), context.scope(), "jvm.ebpf.export.failures",
        "Metric exports that failed (backend unreachable or refusing).", "{export}", MetricDataType.LONG_SUM,
        SumData.createLongSumData(true, AggregationTemporality.CUMULATIVE, List.of(point)));
  }

  /** Keeps something to close at exit; false (and closes it) when shutdown already began. */
  private boolean register(AutoCloseable closeable) {
    synchronized (this) {
      if (!stopped) {
        closeables.add(closeable);
        return true;
      }
    }
    closeQuietly(closeable);
    return false;
  }

  /** Flushes the last export (bounded wait), then detaches every probe and ends our threads. */
  void shutdown() {
    List<AutoCloseable> toClose;
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
      toClose = new ArrayList<>(closeables);
      closeables.clear();
    }
    if (telemetry != null) {
      try {
        // The periodic reader collects and exports one last time as it shuts down.
        telemetry.sdk().shutdown().join(SHUTDOWN_WAIT_MILLIS, TimeUnit.MILLISECONDS);
      } catch (RuntimeException e) {
        log.debug("final export failed: " + e);
      }
    }
    for (AutoCloseable c : toClose) {
      closeQuietly(c);
    }
    if (libbpf != null) {
      libbpf.setLogListener(null); // the library outlives this start; our log must not
    }
    AgentLog.releaseSdkLogging();
  }

  private void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      log.debug("closing " + c + " failed: " + e);
    }
  }

  /** The attach id among raw agent arguments, if any, even when they do not parse otherwise. */
  private static void publishAttachId(String arguments) {
    if (arguments == null) {
      return;
    }
    for (String part : arguments.split(",")) {
      if (part.trim().startsWith("attach.id=")) {
        setAttachId(part.trim().substring("attach.id=".length()));
      }
    }
  }

  private static void setAttachId(String id) {
    try {
      System.setProperty(ATTACH_ID_PROPERTY, id);
    } catch (RuntimeException ignored) {
      // Informative only.
    }
  }

  static void setStatus(String status) {
    try {
      System.setProperty(STATUS_PROPERTY, status);
    } catch (RuntimeException ignored) {
      // Informative only.
    }
  }
}
