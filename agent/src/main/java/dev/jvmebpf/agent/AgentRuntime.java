package dev.jvmebpf.agent;

import dev.jvmebpf.agent.context.ThreadContextInstrumentation;
import dev.jvmebpf.agent.socket.JdkSocketTiming;
import dev.jvmebpf.agent.otel.OpenTelemetrySetup;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.events.ThreadContextWriter;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.bpf.process.ProcessContextMapping;
import dev.jvmebpf.bpf.socket.SocketProbes;
import dev.jvmebpf.otel.GcMetrics;
import dev.jvmebpf.otel.KernelClock;
import dev.jvmebpf.otel.KernelMetricProducer;
import dev.jvmebpf.otel.KernelSpans;
import dev.jvmebpf.otel.MetricSource;
import dev.jvmebpf.otel.ProcessContextPayload;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.common.Clock;
import java.lang.instrument.Instrumentation;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The agent's lifecycle in one JVM: configure, start the OpenTelemetry SDK, attach the probe
 * families ({@link ProbeLoader}), export on the SDK's interval, and at exit flush once and detach
 * everything. Whatever fails becomes one status line ({@link AgentStatus}) and a degraded mode;
 * nothing is thrown into the application.
 */
final class AgentRuntime {

  /** The spans of calls a thread makes: children of the application's span on that thread. */
  private static final Set<String> PARENTED_SPANS = Set.of("socket", "connect", "dns");

  private static final Object LOCK = new Object();
  private static AgentRuntime running;

  private final AgentConfig config;
  private final AgentLog log;
  private final Path privateDir;
  private final String version;
  private final List<AutoCloseable> closeables = new ArrayList<>(); // guarded by this, as stopped
  private boolean stopped;
  private OpenTelemetrySetup.Telemetry telemetry;
  private Libbpf libbpf;
  private SpanReader spans; // guarded by this
  private final Instrumentation instrumentation;
  private ThreadContextInstrumentation contextWriter; // set before the span reader starts
  /** What contextWriter publishes into: the parents of spans timed in Java; null when it is off. */
  private volatile ThreadContextWriter publishedContexts;
  /** The span ring, which knows whose thread context the probes read; null when spans are off. */
  private volatile SpanEvents spanEvents;

  private AgentRuntime(AgentConfig config, AgentLog log, Path privateDir, String version,
      Instrumentation instrumentation) {
    this.instrumentation = instrumentation;
    this.config = config;
    this.log = log;
    this.privateDir = privateDir;
    this.version = version;
  }

  /** Called on the agent's init thread. */
  static void start(String arguments, Instrumentation instrumentation, String entry, Path privateDir, String version) {
    start(arguments, instrumentation, entry, privateDir, version, null);
  }

  /** {@code nativeModule}: how the bootstrap defined bpf-uprobes' module, for the debug log; null if unsaid. */
  static void start(String arguments, Instrumentation instrumentation, String entry, Path privateDir, String version,
      String nativeModule) {
    AgentConfig config;
    AgentLog log;
    try {
      config = AgentConfig.fromAgentArguments(arguments);
      log = new AgentLog(System.err, config.getBoolean("debug"));
      StartCost.measure(log.isDebug());
      if (nativeModule != null) {
        log.debug("bpf-uprobes is " + nativeModule);
      }
    } catch (IllegalArgumentException e) {
      new AgentLog(System.err, false).status("not started: " + e.getMessage());
      AgentStatus.set("off: " + e.getMessage());
      AgentStatus.publishAttachId(arguments);
      return;
    }
    AgentRuntime runtime;
    synchronized (LOCK) {
      if (running != null) {
        log.status("already running in this JVM; the second start (" + entry + ") is ignored");
        AgentStatus.publishAttachId(arguments);
        return;
      }
      runtime = new AgentRuntime(config, log, privateDir, version, instrumentation);
      running = runtime;
    }
    try {
      runtime.run();
    } catch (Throwable e) {
      if (runtime.stopping()) {
        // The JVM's exit (or a detach) stopped the start midway, and the exit took the files the
        // start was reading: nothing failed, so nothing may say so.
        return;
      }
      log.status("stopped after an internal error: " + e);
      AgentStatus.set("off: internal error: " + e);
      stopRunning("internal error");
    }
  }

  /** Stops the running agent, if any; afterwards a new start is possible. Never throws. */
  static void stopRunning(String why) {
    stopRunning(why, false);
  }

  /**
   * {@link #stopRunning(String)}; {@code jvmExit}: the JVM is exiting, so the probes may be left to
   * a helper that removes them after the JVM has gone (see Libbpf.handOffProbesAtExit).
   */
  static void stopRunning(String why, boolean jvmExit) {
    AgentRuntime runtime;
    synchronized (LOCK) {
      runtime = running;
    }
    if (runtime == null) {
      return;
    }
    try {
      runtime.shutdown(jvmExit);
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
    AgentStatus.set("detached");
    AgentStatus.clearGcCountedAfter();
    AgentStatus.publishAttachId(arguments);
  }

  private void run() {
    AgentStatus.set("starting");
    config.get("attach.id").ifPresent(AgentStatus::setAttachId);
    config.unknownArgumentsWarning().ifPresent(log::status);
    ProbeLoader.Settings settings;
    try {
      // Every setting, before the SDK is built or anything attached: a bad one means no start.
      config.validateOpenTelemetry();
      settings = ProbeLoader.settings(config, OpenTelemetrySetup.tracesExported(config));
    } catch (IllegalArgumentException e) {
      notStarted(e.getMessage(), e.getMessage());
      return;
    }
    long cpuBefore = StartCost.threadCpuNanos();
    long before = System.nanoTime();
    KernelMetricProducer producer = OpenTelemetrySetup.producer(config, log, version);
    log.captureSdkLogging();
    try {
      telemetry = OpenTelemetrySetup.create(config, producer, log, version);
    } catch (RuntimeException e) {
      notStarted("the OpenTelemetry configuration is invalid: " + e.getMessage(), e.getMessage());
      return;
    }

    log.debug("OpenTelemetry SDK set up in " + StartCost.since(before, cpuBefore));
    // Lambdas, not references to private methods: the build turns lambdas into classes (see
    // LambdaDesugar); a method reference would be linked at run time.
    ProbeLoader.Result probes = ProbeLoader.attach(config, settings, log, privateDir,
        closeable -> register(closeable), (loaded, events) -> beforeFamilies(loaded, events, settings),
        (loaded, durations, sizes, peerLimit) -> jdkSocketTiming(loaded, durations, sizes, peerLimit));
    libbpf = probes.libbpf();
    boolean spansOn = false;
    if (probes.events() != null) {
      try {
        startSpans(probes.events(), settings, producer);
        spansOn = true;
      } catch (RuntimeException | LinkageError e) {
        // Spans are an addition: their failure leaves the metrics on.
        log.status("spans off after an internal error: " + e);
        probes.events().close();
      }
    }
    if (!spansOn && contextWriter != null) {
      // Installed before the families attached, which then gave no spans: nobody would read it.
      closeQuietly(contextWriter);
      contextWriter = null;
    }
    if (probes.stopped()) {
      // The application ended while the probes were attaching: nothing failed, nothing to say.
      AgentStatus.set("off: the application ended before the agent was on");
      return;
    }
    if (probes.bpfOff() != null || !probes.attached().contains("gc")) {
      JmxGcFallback fallback = JmxGcFallback.start(HistogramLayout.nanosecondsAsSeconds(settings.scale()));
      if (!register(fallback)) {
        return;
      }
      producer.addSource(MetricSource.of("gc-mxbeans", Clock.getDefault().now(),
          context -> GcMetrics.of(fallback.snapshot(), context)));
    }
    publishProcessContext(libbpf);
    if (log.isDebug()) {
      log.debug("on at JVM uptime " + ManagementFactory.getRuntimeMXBean().getUptime()
          + " ms; this thread's CPU so far " + StartCost.threadCpuNanos() / 1_000_000 + " ms");
    }
    // Last before the status: what the GC family counts then begins where the GC MXBeans' counts,
    // read by whoever sees the agent on, stand.
    probes.startCounting(producer);
    AgentStatus.announce(log, version, probes, "exporting to " + telemetry.destination() + " every "
        + AgentConfig.describe(config.exportInterval()));
  }

  /**
   * Publishes the process context (OTEP 4719) with the SDK's resource, and OTEP 4947's
   * {@code threadlocal.*} keys when our thread context writer is on, unless another library of
   * the process publishes one. Needs only the bundled library, not eBPF. Never throws.
   */
  private void publishProcessContext(Libbpf loaded) {
    if (loaded == null || !config.getBoolean("process.context")) {
      return;
    }
    try {
      Attributes threadLocal = contextWriter == null ? Attributes.empty()
          : Attributes.of(ProcessContextPayload.THREADLOCAL_SCHEMA, ProcessContextPayload.THREAD_RECORDS_V1,
              ProcessContextPayload.THREADLOCAL_KEYS, List.of());
      byte[] payload = ProcessContextPayload.encode(telemetry.resource(), threadLocal);
      ProcessContextMapping.publish(loaded, payload, Clock.getDefault().now()).ifPresentOrElse(mapping -> {
        if (register(mapping)) {
          log.debug("process context (OTEP 4719) published: " + payload.length + " bytes at 0x"
              + Long.toHexString(mapping.address()));
        }
      }, () -> log.debug("process context: another library of the process publishes one"));
    } catch (Exception | LinkageError e) {
      log.debug("process context off: " + e);
    }
  }

  /** socket.timing=jdk (the default): the timing point in the JDK's sockets; null (said why) for libc probes. */
  private SocketProbes.IoSource jdkSocketTiming(Libbpf loaded, HistogramLayout durations, HistogramLayout sizes,
      int peers) {
    if (!config.getChoice("socket.timing", "libc", "jdk").equals("jdk")) {
      return null;
    }
    if (instrumentation == null) {
      log.status("socket.timing=jdk needs the agent loaded as an agent (-javaagent or attach); "
          + "socket I/O probed in libc instead");
      return null;
    }
    long before = System.nanoTime();
    long cpuBefore = StartCost.threadCpuNanos();
    try {
      // The parent of a slow call's span: the thread's context as the probes read it (another
      // writer's record, else the one ours published), read on the calling thread.
      java.util.Set<Integer> listening;
      try {
        listening = loaded.listeningTcpPorts();
      } catch (dev.jvmebpf.bpf.libbpf.BpfException e) {
        listening = Set.of(); // listeners opened before the agent: their connections keep the clients' ports
      }
      JdkSocketTiming timing = JdkSocketTiming.install(instrumentation, listening, durations, sizes, peers, () -> {
        SpanEvents events = spanEvents;
        return events == null ? null : events.callingThreadParent(publishedContexts);
      });
      log.debug("JDK socket timing point installed in " + StartCost.since(before, cpuBefore));
      return timing;
    } catch (Exception | LinkageError e) {
      log.status("socket.timing=jdk unavailable (" + e + "); socket I/O probed in libc instead");
      return null;
    }
  }

  /**
   * Before the families attach: where thread contexts are, and our writer of them when the spans
   * of calls are on. Never throws: spans are an addition.
   */
  private void beforeFamilies(Libbpf loaded, SpanEvents events, ProbeLoader.Settings settings) {
    spanEvents = events;
    try {
      events.locateThreadContext();
      if (settings.spanThresholds().keySet().stream().anyMatch(PARENTED_SPANS::contains)) {
        startContextWriter(loaded, events);
      }
    } catch (Exception | LinkageError e) {
      log.debug("thread context off: " + e);
    }
  }

  /**
   * Publishes the application's current OpenTelemetry span as thread context (OTEP 4947), so that
   * the probes make socket and lookup spans its children; nothing when another writer does so in
   * this process, or when the JVM does not let us instrument (then those spans are roots).
   */
  private void startContextWriter(Libbpf loaded, SpanEvents events) {
    boolean available = loaded.threadContextLibrary() != null;
    if (instrumentation == null || !available || !config.getBoolean("spans.context")) {
      log.debug("thread context writer off: " + (instrumentation == null ? "no instrumentation"
          : !available ? "its library did not load" : "spans.context=false"));
      return;
    }
    try {
      contextWriter = ThreadContextInstrumentation.install(instrumentation, loaded, events, log::debug);
      publishedContexts = contextWriter.writer();
      register(contextWriter);
      log.debug("thread context writer on" + (events.foreignWriter() ? " but silent: another writer publishes" : ""));
    } catch (Exception | LinkageError e) {
      log.debug("thread context writer off: " + e);
    }
  }

  /** Reads the families' span events into spans of the agent's tracer, until shutdown. */
  private void startSpans(SpanEvents events, ProbeLoader.Settings settings, KernelMetricProducer producer) {
    Tracer tracer = telemetry.sdk().getTracerProvider().tracerBuilder("jvm-ebpf-agent")
        .setInstrumentationVersion(version).build();
    KernelSpans kernelSpans = new KernelSpans(tracer, KernelClock.system(), settings.spansPerSecond());
    producer.addSource(MetricSource.of("spans", Clock.getDefault().now(), kernelSpans::metrics));
    synchronized (this) {
      if (stopped) {
        events.close();
        return;
      }
      // From here on the reader owns the ring; it also looks for context storages loaded later.
      spans = SpanReader.start(events, kernelSpans, log, contextWriter == null ? null : contextWriter::poll);
    }
  }

  /** Whether shutdown began: the JVM's exit or a detach. */
  private synchronized boolean stopping() {
    return stopped;
  }

  private void notStarted(String line, String status) {
    if (stopping()) {
      return; // the exit or a detach came first; what failed then was its doing (see start)
    }
    log.status("not started: " + line);
    AgentStatus.set("off: " + status);
    stopRunning("not started");
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

  /**
   * Flushes the last export (bounded wait), then detaches every probe and ends our threads. At the
   * JVM's exit ({@code jvmExit}) the probes' removal is handed to a helper first, so that the exit
   * waits for no grace period; where that fails they are removed here, as at detach.
   */
  void shutdown(boolean jvmExit) {
    List<AutoCloseable> toClose;
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
      toClose = new ArrayList<>(closeables);
      closeables.clear();
    }
    long before = System.nanoTime();
    long cpuBefore = StartCost.threadCpuNanos();
    SpanReader reader;
    synchronized (this) {
      reader = spans;
    }
    if (reader != null) {
      reader.close(); // the last spans go into the SDK before its final flush
    }
    if (telemetry != null) {
      flushWithin(telemetry, config.exitTimeout());
    }
    log.debug("last export in " + StartCost.since(before, cpuBefore));
    before = System.nanoTime();
    cpuBefore = StartCost.threadCpuNanos();
    String handedOff = "";
    if (jvmExit && libbpf != null) {
      handedOff = handOffProbes(libbpf);
    }
    closeSideBySide(toClose);
    log.debug("probes removed in " + StartCost.since(before, cpuBefore) + handedOff);
    if (libbpf != null) {
      libbpf.setLogListener(null); // the library outlives this start; our log must not
    }
    AgentLog.releaseSdkLogging();
  }

  /**
   * Starts the helper that removes the probes after the JVM has gone; says what happened, for the
   * debug line. Not when this JVM is its pid namespace's init: the kernel then kills every other
   * process of the namespace as it exits and waits for them, the helper included, which would
   * only move the wait.
   */
  private static String handOffProbes(Libbpf libbpf) {
    if (JvmProcess.selfPid() == 1) {
      return " (no hand-off: this JVM is its namespace's init)";
    }
    int helper = libbpf.handOffProbesAtExit();
    return helper > 0 ? " (handed to helper " + helper + ")" : " (hand-off failed: " + libbpf.describe(-helper) + ")";
  }

  /**
   * Shuts the SDK down, which collects and exports one last time, waiting for it at most
   * {@code timeout}: the SDK's own shutdown blocks its caller on the final export (up to 5 s, then
   * the exporter's shutdown), so it runs on a daemon thread of its own that the exit may leave
   * behind. A refused connection fails at once (OpenTelemetrySetup turns the exporter's retries
   * off where they gain nothing); only a backend that accepts and stays silent uses the bound.
   */
  private void flushWithin(OpenTelemetrySetup.Telemetry telemetry, Duration timeout) {
    Thread flush = new Thread(() -> closeQuietly(() -> telemetry.sdk().shutdown().join(timeout.toMillis(),
        TimeUnit.MILLISECONDS)), "jvm-ebpf-agent-flush");
    flush.setDaemon(true);
    flush.start();
    boolean interrupted = false;
    long deadline = System.nanoTime() + timeout.toNanos();
    for (long left = timeout.toNanos(); left > 0 && flush.isAlive(); left = deadline - System.nanoTime()) {
      try {
        flush.join(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        interrupted = true; // the exit goes on; the probes are removed next
      }
    }
    if (flush.isAlive()) {
      log.debug("the last export did not end within " + timeout.toMillis() + " ms; not waiting for it");
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Closes everything at once: the kernel waits for grace periods before a probe is gone, about
   * 70 ms per family's links here, and families closed one after another added those up (660 ms
   * for the default families; side by side about 95 ms).
   */
  private void closeSideBySide(List<AutoCloseable> toClose) {
    List<Thread> threads = new ArrayList<>(toClose.size());
    for (AutoCloseable c : toClose) {
      Thread t = new Thread(() -> closeQuietly(c), "jvm-ebpf-agent-close");
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    boolean interrupted = false;
    for (Thread t : threads) {
      while (t.isAlive()) {
        try {
          t.join();
        } catch (InterruptedException e) {
          interrupted = true; // finish closing first: the library is released right after
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      log.debug("closing " + c + " failed: " + e);
    }
  }
}
