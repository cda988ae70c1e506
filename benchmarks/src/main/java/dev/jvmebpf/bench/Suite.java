package dev.jvmebpf.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * The side-by-side suite of {@code make bench}: real workloads nobody here wrote (the JDK's
 * {@code jwebserver} under {@code wrk}, {@code javac} compiling {@code java.util}) and an idle
 * application's start and exit, an application with its own OpenTelemetry SDK changing context
 * in a tight loop, each run without an agent, with jvm-ebpf-agent (defaults,
 * {@code exporter=none}; and with its spans on), with the OpenTelemetry Java agent (exporters {@code none}) and with JFR
 * ({@code settings=default}), all interleaved round by round (each round starting with the next). Writes {@code RESULTS.md}
 * (medians, spreads, ratios to the run without an agent) and the raw figures as CSV.
 */
final class Suite {

  /** A tool a user would pick, as JVM options (null: none of ours). */
  record Tool(String name, List<String> jvmOptions) {}

  /** One figure of one run. */
  record Sample(String workload, String metric, String tool, int round, double value) {}

  private static final Pattern WRK_RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");

  private final Path jdk;
  private final Path agentJar;
  private final Path work;
  private final List<Tool> tools;
  private final List<Sample> samples = new ArrayList<>();
  private final int rounds;

  Suite(Path jdk, Path agent, Path otelAgent, Path work, int rounds) {
    this.jdk = jdk;
    this.agentJar = agent;
    this.work = work;
    this.rounds = rounds;
    this.tools = List.of(
        new Tool("no agent", List.of()),
        new Tool("jvm-ebpf-agent", List.of("-javaagent:" + agent + "=exporter=none")),
        // The same with the span path on: spans written as OTLP JSON lines to the discarded stdout.
        new Tool("jvm-ebpf-agent, spans on", List.of("-javaagent:" + agent
            + "=exporter=none,otel.traces.exporter=logging-otlp")),
        // TCP receives and transmits timed by libc uprobes on read/write instead of in the JDK's sockets.
        new Tool("jvm-ebpf-agent, socket.timing=libc", List.of("-javaagent:" + agent
            + "=exporter=none,socket.timing=libc")),
        new Tool("OpenTelemetry Java agent", List.of("-javaagent:" + otelAgent, "-Dotel.traces.exporter=none",
            "-Dotel.metrics.exporter=none", "-Dotel.logs.exporter=none")),
        new Tool("JFR", List.of("-XX:StartFlightRecording=settings=default,filename=" + work.resolve("bench.jfr"))));
  }

  void run() throws Exception {
    Path site = Files.createDirectories(work.resolve("site"));
    Files.write(site.resolve("file.txt"), "x".repeat(1024).getBytes(StandardCharsets.US_ASCII));
    List<Path> sources = javaUtilSources();
    for (int round = 0; round < rounds; round++) {
      // Each round starts with the next tool: no tool always follows the same one.
      for (int i = 0; i < tools.size(); i++) {
        Tool tool = tools.get((round + i) % tools.size());
        System.out.printf(Locale.ROOT, "round %d/%d, %s%n", round + 1, rounds, tool.name());
        webServer(tool, round, site);
        compile(tool, round, sources);
        idleStart(tool, round);
        contextChanges(tool, round);
        microBenchmarks(tool, round);
      }
      exportCost(round);
      detachCost(round);
    }
  }

  static final String DETACH = "detach (idle app, the agent's defaults)";
  private static final Pattern STEP_MS = Pattern.compile("debug: (last export|probes removed) in (\\d+) ms");

  /**
   * The detach command against an idle application with the agent's defaults (and its debug
   * lines on): how long the agent took from the request's arrival to every probe removed, by its
   * own account (the last export, then the probes' removal). The command's attach to the JVM is
   * the JDK's attach mechanism, the same for any agent, and not counted.
   */
  private void detachCost(int round) throws Exception {
    Tool agent = tools.stream().filter(t -> t.name().equals("jvm-ebpf-agent")).findFirst().orElseThrow();
    Path err = work.resolve("detach.err");
    List<String> command = List.of(java(), agent.jvmOptions().get(0) + ",debug=true", "-cp", classes(),
        IdleApp.class.getName(), "20000");
    Process app = new ProcessBuilder(command).redirectError(err.toFile()).start();
    Map<String, Double> steps = new LinkedHashMap<>();
    try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(app.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null && !line.startsWith("ON_MS ")) {
        // the agent is on once the idle app says so
      }
      if (line == null || !line.contains(" on: ")) {
        throw new IOException("the idle app saw no agent on: " + line + "\n" + Files.readString(err));
      }
      Process detach = new ProcessBuilder(java(), "-jar", agentJar.toString(), "detach", Long.toString(app.pid()))
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!detach.waitFor(120, TimeUnit.SECONDS) || detach.exitValue() != 0) {
        detach.destroyForcibly();
        throw new IOException("detach " + app.pid() + " failed:\n" + Files.readString(err));
      }
      for (long deadline = System.nanoTime() + 10_000_000_000L; steps.size() < 2 && System.nanoTime() < deadline; ) {
        Matcher m = STEP_MS.matcher(Files.readString(err));
        steps.clear();
        while (m.find()) {
          steps.putIfAbsent(m.group(1), Double.parseDouble(m.group(2)));
        }
        Thread.sleep(50);
      }
    } finally {
      app.destroy();
      if (!app.waitFor(30, TimeUnit.SECONDS)) {
        app.destroyForcibly();
      }
    }
    if (steps.size() < 2) {
      throw new IOException("the agent said nothing of its detach:\n" + Files.readString(err));
    }
    add(DETACH, "last export ms", agent, round, steps.get("last export"));
    add(DETACH, "probes removed ms", agent, round, steps.get("probes removed"));
    add(DETACH, "ms in all", agent, round, steps.get("last export") + steps.get("probes removed"));
  }

  /**
   * The existing micro-benchmarks, in fresh JVMs with the tool's options: a loopback TCP
   * ping-pong, UDP sends and small allocations ({@link SocketWorkload}, {@link AllocationWorkload}:
   * 3 s warm-up, 6 s measured).
   */
  private void microBenchmarks(Tool tool, int round) throws Exception {
    String workload = "micro-benchmarks (operations/s)";
    add(workload, "TCP ping-pong round trips/s (2 threads, 4 socket calls each)", tool, round,
        result(tool, SocketWorkload.class, "pingpong"));
    add(workload, "UDP sends/s (1 thread, connected DatagramChannel)", tool, round,
        result(tool, SocketWorkload.class, "udp"));
    add(workload, "small allocations/s (2 threads)", tool, round, result(tool, AllocationWorkload.class, "heap"));
  }

  private double result(Tool tool, Class<?> workload, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(java(), "-Xmx1g", "-Xms1g"));
    command.addAll(tool.jvmOptions());
    command.addAll(List.of("-cp", classes(), workload.getName()));
    command.addAll(List.of(args));
    return printed(timed(command), "RESULT");
  }

  /** Events per second the export cost is measured at. */
  static final long[] EVENT_RATES = {1_000, 10_000, 100_000};
  static final int EXPORT_SECONDS = 20;

  /**
   * The agent's own user-space CPU per export (interval 1 s, spans and metrics written as OTLP
   * JSON to the discarded stdout) while its probes see 1k, 10k and 100k events per second
   * ({@link EventRateWorkload}): it must not grow with the rate, since the kernel aggregates.
   * In the first run of a round, also the kernel memory of the agent's maps as bpftool reports
   * it for this process, and the bound for a 64-CPU host computed from each map's type and sizes.
   */
  private void exportCost(int round) throws Exception {
    Tool agent = tools.stream().filter(t -> t.name().equals("jvm-ebpf-agent")).findFirst().orElseThrow();
    String options = agent.jvmOptions().get(0).replace("exporter=none", "exporter=logging-otlp,interval=1s");
    for (long rate : EVENT_RATES) {
      List<String> command = new ArrayList<>(List.of(java(), "-Xmx256m", options, "-cp", classes(),
          EventRateWorkload.class.getName(), Long.toString(rate), Integer.toString(EXPORT_SECONDS)));
      Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      double cpuMs = -1;
      long events = 0;
      try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = lines.readLine()) != null; ) {
          if (line.startsWith("READY ") && rate == EVENT_RATES[0]) {
            mapMemory(agent, round, Long.parseLong(line.substring(6).trim()));
          } else if (line.startsWith("AGENT_CPU_MS ")) {
            cpuMs = Double.parseDouble(line.split(" ")[1]);
          } else if (line.startsWith("EVENTS ")) {
            events = Long.parseLong(line.substring(7).trim());
          }
        }
      }
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || cpuMs < 0) {
        p.destroyForcibly();
        throw new IOException("the event-rate workload at " + rate + "/s failed (status "
            + (p.isAlive() ? "running" : p.exitValue()) + ")");
      }
      add("agent's own CPU per export (interval 1 s)", String.format(Locale.ROOT, "ms per export at %,d events/s",
          rate), agent, round, cpuMs / EXPORT_SECONDS);
      add("agent's own CPU per export (interval 1 s)", String.format(Locale.ROOT, "events/s reached at %,d asked",
          rate), agent, round, events / (double) EXPORT_SECONDS);
    }
  }

  private static final Pattern MAP_FIELD = Pattern.compile("\"(type|bytes_key|bytes_value|max_entries|bytes_memlock)\":"
      + "\"?([a-z_0-9]+)\"?");

  /**
   * bpftool map show: the memory of the maps process {@code pid} holds (their ids from the
   * process's own descriptors, /proc/pid/fdinfo), here and bounded for 64 CPUs.
   */
  private void mapMemory(Tool tool, int round, long pid) throws Exception {
    java.util.Set<String> ids = new java.util.HashSet<>();
    try (var fds = Files.list(Path.of("/proc/" + pid + "/fdinfo"))) {
      for (Path fd : fds.toList()) {
        try {
          Files.readAllLines(fd).stream().filter(l -> l.startsWith("map_id:"))
              .forEach(l -> ids.add(l.substring(7).trim()));
        } catch (IOException closedMeanwhile) {
          // not a map then
        }
      }
    }
    Process p = new ProcessBuilder("bpftool", "map", "show", "-j").redirectErrorStream(true).start();
    String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    int cpus = possibleCpus();
    double here = 0;
    double bound = 0;
    for (String map : json.split("\\{\"id\":")) {
      int comma = map.indexOf(',');
      if (comma < 0 || !ids.contains(map.substring(0, comma).trim())) {
        continue;
      }
      Map<String, String> f = new LinkedHashMap<>();
      Matcher m = MAP_FIELD.matcher(map);
      while (m.find()) {
        f.putIfAbsent(m.group(1), m.group(2));
      }
      double memlock = Double.parseDouble(f.getOrDefault("bytes_memlock", "0"));
      long key = Long.parseLong(f.getOrDefault("bytes_key", "0"));
      long value = Long.parseLong(f.getOrDefault("bytes_value", "0"));
      String type = f.getOrDefault("type", "");
      here += memlock;
      if (type.startsWith("percpu") || type.startsWith("lru_percpu")) {
        bound += memlock * 64 / cpus; // one copy of every value per possible CPU
      } else if (type.equals("hash") || type.equals("lru_hash")) {
        // A preallocated hash map holds one spare element per possible CPU (the kernel's htab).
        bound += memlock + (64L - cpus) * (48 + ((key + 7) & ~7L) + ((value + 7) & ~7L));
      } else {
        bound += memlock; // arrays, the ring buffer: whatever the CPUs
      }
    }
    String workload = "kernel memory of the agent's maps (defaults, spans on)";
    add(workload, "MiB on this machine (" + cpus + " possible CPUs), bpftool", tool, round, here / 1048576);
    add(workload, "MiB bound for 64 possible CPUs", tool, round, bound / 1048576);
  }

  private static int possibleCpus() throws IOException {
    int count = 0;
    for (String range : Files.readString(Path.of("/sys/devices/system/cpu/possible")).trim().split(",")) {
      String[] ends = range.split("-");
      count += ends.length == 1 ? 1 : Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1;
    }
    return count;
  }

  /**
   * jwebserver (the jdk.httpserver module, request logging to a discarded stdout as it comes)
   * serving a 1 KB file to {@code wrk -t1 -c8}: 10 s from the moment it accepts connections, then
   * 10 s more to settle, then 10 s of steady state.
   */
  private void webServer(Tool tool, int round, Path site) throws Exception {
    int port = freePort();
    List<String> command = new ArrayList<>(List.of(java(), "-Xmx512m"));
    command.addAll(tool.jvmOptions());
    command.addAll(List.of("-m", "jdk.httpserver", "-b", "127.0.0.1", "-p", Integer.toString(port),
        "-d", site.toString()));
    Process server = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      long started = System.nanoTime();
      awaitPort(port, server);
      String url = "http://127.0.0.1:" + port + "/file.txt";
      awaitResponse(url);
      add("jwebserver", "ms from start to first response", tool, round, (System.nanoTime() - started) / 1e6);
      add("jwebserver", "requests/s from start", tool, round, wrk(url, 10));
      wrk(url, 10);
      add("jwebserver", "requests/s steady", tool, round, wrk(url, 10));
    } finally {
      server.destroy();
      if (!server.waitFor(20, TimeUnit.SECONDS)) {
        server.destroyForcibly().waitFor();
      }
    }
  }

  /** javac (with the tool's options through -J) compiling java/util/*.java of the JDK's src.zip. */
  private void compile(Tool tool, int round, List<Path> sources) throws Exception {
    Path out = work.resolve("javac-out");
    deleteTree(out);
    Files.createDirectories(out);
    Path argFile = work.resolve("javac.args");
    List<String> args = new ArrayList<>(List.of("-proc:none", "-nowarn", "-Xlint:none", "-XDsuppressNotes",
        "--patch-module", "java.base=" + work.resolve("src/java.base"), "-d", out.toString()));
    sources.forEach(p -> args.add(p.toString()));
    Files.write(argFile, args);
    List<String> command = new ArrayList<>(List.of(jdk.resolve("bin/javac").toString(), "-J-Xmx1g"));
    tool.jvmOptions().forEach(o -> command.add("-J" + o));
    command.add("@" + argFile);
    Timed t = timed(command);
    add("javac java.util", "wall s", tool, round, t.wall());
    add("javac java.util", "CPU s", tool, round, t.cpu());
  }

  /**
   * An application that does nothing for 3 s: the CPU time and peak memory the tool adds to it,
   * and how long the JVM takes to exit once main returns.
   */
  private void idleStart(Tool tool, int round) throws Exception {
    List<String> command = new ArrayList<>(List.of(java()));
    command.addAll(tool.jvmOptions());
    command.addAll(List.of("-cp", classes(), IdleApp.class.getName(), "3000"));
    Timed t = timed(command);
    add("idle app, 3 s", "CPU s", tool, round, t.cpu());
    add("idle app, 3 s", "peak RSS MB", tool, round, t.rssKb() / 1024.0);
    String end = t.stdout().lines().filter(l -> l.startsWith("MAIN_END ")).findFirst()
        .orElseThrow(() -> new IOException(tool.name() + ": the idle app printed no MAIN_END:\n" + t.stdout()));
    add("idle app, 3 s", "exit ms after main", tool, round, t.endedMillis() - Long.parseLong(end.substring(9)));
    t.stdout().lines().filter(l -> l.startsWith("ON_MS ")).findFirst()
        .ifPresent(l -> add("idle app, 3 s", "probes on at JVM uptime ms", tool, round,
            Double.parseDouble(l.split(" ")[1])));
  }

  /**
   * An application with its own OpenTelemetry SDK 1.30.1 making a span current and closing the
   * scope, and creating spans, in tight loops ({@link ContextWorkload}): what each costs it. Our
   * thread context writer is installed only where its records are read, with the spans of calls
   * exported (the "spans on" configuration); HotSpot's log of class retransformations says in
   * which runs the application's context storage was rewritten.
   */
  private void contextChanges(Tool tool, int round) throws Exception {
    Path log = work.resolve("retransformed.log");
    Files.deleteIfExists(log);
    List<String> command = new ArrayList<>(List.of(java(), "-Xmx256m"));
    command.addAll(tool.jvmOptions());
    command.add("-Xlog:redefine+class+load=info:file=" + log);
    command.addAll(List.of("-cp", classes() + java.io.File.pathSeparator + appLibraries(),
        ContextWorkload.class.getName(), "3000", "4000"));
    Timed t = timed(command);
    String workload = "application with its own OpenTelemetry SDK";
    add(workload, "ns per context change pair (make current, close)", tool, round, printed(t, "CONTEXT_NS"));
    add(workload, "ns per span (start, make current, close, end)", tool, round, printed(t, "SPAN_NS"));
    boolean rewritten = Files.exists(log)
        && Files.readString(log).contains("name=io.opentelemetry.context.ThreadLocalContextStorage");
    add(workload, "context storage retransformed (1: yes)", tool, round, rewritten ? 1 : 0);
  }

  private static double printed(Timed t, String key) throws IOException {
    return Double.parseDouble(t.stdout().lines().filter(l -> l.startsWith(key + " ")).findFirst()
        .orElseThrow(() -> new IOException("no " + key + " in:\n" + t.stdout())).substring(key.length() + 1));
  }

  /** The jars of ContextWorkload's SDK, copied beside the classes by the build. */
  private static String appLibraries() throws IOException {
    Path dir = Path.of(classes()).getParent().resolve("app-libs");
    try (var jars = Files.list(dir)) {
      return String.join(java.io.File.pathSeparator, jars.map(Path::toString).sorted().toList());
    }
  }

  private double wrk(String url, int seconds) throws Exception {
    Process p = new ProcessBuilder("wrk", "-t1", "-c8", "-d" + seconds + "s", url).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    Matcher m = WRK_RATE.matcher(out);
    if (!m.find()) {
      throw new IOException("wrk printed no Requests/sec:\n" + out);
    }
    return Double.parseDouble(m.group(1));
  }

  record Timed(double wall, double cpu, long rssKb, String stdout, long endedMillis) {}

  /** Runs a command under GNU time: wall and CPU seconds (user + system), peak RSS. */
  private Timed timed(List<String> command) throws Exception {
    Path times = work.resolve("time.out");
    List<String> full = new ArrayList<>(List.of("/usr/bin/time", "-f", "%e %U %S %M", "-o", times.toString()));
    full.addAll(command);
    Process p = new ProcessBuilder(full).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", command) + ": did not finish");
    }
    long ended = System.currentTimeMillis();
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + ": exit status " + p.exitValue() + "\n" + out);
    }
    String[] f = Files.readString(times).trim().lines().reduce((a, b) -> b).orElse("").split(" ");
    return new Timed(Double.parseDouble(f[0]), Double.parseDouble(f[1]) + Double.parseDouble(f[2]),
        Long.parseLong(f[3]), out, ended);
  }

  private void add(String workload, String metric, Tool tool, int round, double value) {
    samples.add(new Sample(workload, metric, tool.name(), round, value));
  }

  /** java/util/*.java of the JDK's own sources, extracted once. */
  private List<Path> javaUtilSources() throws IOException {
    Path dir = work.resolve("src/java.base/java/util");
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(jdk.resolve("lib/src.zip")))) {
        for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
          String name = e.getName();
          if (name.startsWith("java.base/java/util/") && name.endsWith(".java")
              && name.indexOf('/', "java.base/java/util/".length()) < 0) {
            Files.copy(zip, work.resolve("src").resolve(name));
          }
        }
      }
    }
    try (var files = Files.list(dir)) {
      return files.sorted().toList();
    }
  }

  /** RESULTS.md: machine, date, rounds; per workload and metric the medians, spreads, ratios. */
  String markdown(String machine) {
    StringBuilder md = new StringBuilder();
    md.append("# Benchmark results\n\n");
    md.append("Written by `make bench` (").append(getClass().getSimpleName()).append(".java); the raw figures are in `results.csv`.\n\n");
    md.append("- date: ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append('\n');
    md.append("- machine: ").append(machine).append('\n');
    md.append("- workload JDK: ").append(jdk).append('\n');
    md.append("- rounds: ").append(rounds).append(", the ").append(tools.size()).append(" configurations interleaved in each, each round ")
        .append("starting with the next one\n");
    md.append("- tools: jvm-ebpf-agent with its defaults and `exporter=none` (no spans), and the same with ")
        .append("spans on (`otel.traces.exporter=logging-otlp`, to the discarded stdout), and with TCP socket I/O timed ")
        .append("by libc uprobes on read/write instead of in the JDK's sockets (`socket.timing=libc`); the OpenTelemetry Java agent ")
        .append("with `otel.{traces,metrics,logs}.exporter=none`; JFR `settings=default`\n\n");
    goals(md);
    md.append("A ratio is the tool's median over the median without an agent. Where a tool's range of runs ")
        .append("overlaps the range without an agent, the table says so instead of ranking them.\n");
    Map<String, Map<String, Map<String, List<Double>>>> byWorkload = new LinkedHashMap<>();
    for (Sample s : samples) {
      byWorkload.computeIfAbsent(s.workload(), k -> new LinkedHashMap<>())
          .computeIfAbsent(s.metric(), k -> new LinkedHashMap<>())
          .computeIfAbsent(s.tool(), k -> new ArrayList<>()).add(s.value());
    }
    byWorkload.forEach((workload, metrics) -> {
      md.append("\n## ").append(workload).append("\n\n");
      md.append("| metric | tool | median | ratio | runs | |\n|---|---|---|---|---|---|\n");
      metrics.forEach((metric, byTool) -> {
        List<Double> base = byTool.get("no agent");
        byTool.forEach((tool, values) -> {
          double median = Runner.median(values);
          // No ratio against a median of 0 (a yes/no figure such as "context storage retransformed").
          boolean compared = base != null && !tool.equals("no agent") && Runner.median(base) != 0;
          String ratio = compared ? String.format(Locale.ROOT, "%.3f", median / Runner.median(base)) : "";
          String verdict = compared && overlaps(values, base) ? "no measurable difference" : "";
          md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s |%n", metric, tool, format(median),
              ratio, values.stream().map(Suite::format).toList(), verdict));
        });
      });
    });
    return md.toString();
  }

  /** The medians of a metric for a tool; NaN when it was not measured. */
  private double median(String workload, String metric, String tool) {
    List<Double> values = samples.stream().filter(x -> x.workload().equals(workload) && x.metric().equals(metric)
        && x.tool().equals(tool)).map(Sample::value).toList();
    return values.isEmpty() ? Double.NaN : Runner.median(values);
  }

  /** Issue 12's goals for the agent with its defaults, each met or not, by its medians in this run. */
  private void goals(StringBuilder md) {
    String agent = "jvm-ebpf-agent";
    String none = "no agent";
    double web = median("jwebserver", "requests/s steady", agent) / median("jwebserver", "requests/s steady", none);
    double javac = median("javac java.util", "wall s", agent) / median("javac java.util", "wall s", none);
    double cpu = median("idle app, 3 s", "CPU s", agent) - median("idle app, 3 s", "CPU s", none);
    double rss = median("idle app, 3 s", "peak RSS MB", agent) - median("idle app, 3 s", "peak RSS MB", none);
    double on = median("idle app, 3 s", "probes on at JVM uptime ms", agent);
    double exit = median("idle app, 3 s", "exit ms after main", agent) - median("idle app, 3 s", "exit ms after main", none);
    double detach = median(DETACH, "ms in all", agent);
    double maps = median("kernel memory of the agent's maps (defaults, spans on)", "MiB bound for 64 possible CPUs", agent);
    md.append("## Goals (the agent's defaults; medians of this run)\n\n| goal | measured | |\n|---|---|---|\n");
    goal(md, "jwebserver steady throughput at least 0.98 of no agent", String.format(Locale.ROOT, "%.3f", web),
        web >= 0.98);
    goal(md, "javac wall time at most 1.02 of no agent", String.format(Locale.ROOT, "%.3f", javac), javac <= 1.02);
    goal(md, "start: at most 0.5 CPU-seconds over no agent", String.format(Locale.ROOT, "+%.2f s", cpu), cpu <= 0.5);
    goal(md, "start: at most 40 MB peak RSS over no agent", String.format(Locale.ROOT, "+%.0f MB", rss), rss <= 40);
    goal(md, "start: probes on within 1.5 s of the JVM's start", String.format(Locale.ROOT, "%.0f ms", on), on <= 1500);
    goal(md, "exit: at most 100 ms over no agent", String.format(Locale.ROOT, "+%.0f ms", exit), exit <= 100);
    goal(md, "detach: at most 100 ms", String.format(Locale.ROOT, "%.0f ms", detach), detach <= 100);
    goal(md, "map memory for 64 CPUs at most 32 MiB", String.format(Locale.ROOT, "%.1f MiB", maps), maps <= 32);
    md.append("\n(javac's spread on this VM is often wider than 2%: see its runs below before reading its ratio.)\n\n");
    md.append("Where a goal is not met, why, as profiled, and what would close it: README.md, \"Overhead, measured\","
        + " under \"Not yet where they should be\".\n\n");
  }

  private static void goal(StringBuilder md, String goal, String measured, boolean met) {
    md.append("| ").append(goal).append(" | ").append(measured).append(" | ").append(met ? "met" : "**not met**")
        .append(" |\n");
  }

  String csv() {
    StringBuilder csv = new StringBuilder("workload,metric,tool,round,value\n");
    for (Sample s : samples) {
      csv.append(String.format(Locale.ROOT, "%s,%s,%s,%d,%s%n", s.workload(), s.metric(), s.tool(), s.round() + 1,
          format(s.value())));
    }
    return csv.toString();
  }

  private static boolean overlaps(List<Double> a, List<Double> b) {
    double aMin = a.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    double aMax = a.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    double bMin = b.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    double bMax = b.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    return aMin <= bMax && bMin <= aMax;
  }

  private static String format(double v) {
    return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
  }

  private String java() {
    return jdk.resolve("bin/java").toString();
  }

  private static String classes() {
    try {
      return Path.of(Suite.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void awaitPort(int port, Process server) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!server.isAlive()) {
        throw new IOException("the server ended with status " + server.exitValue());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(10);
      }
    }
    throw new IOException("the server did not accept connections on port " + port + " within 60 s");
  }

  /** Until a GET of {@code url} is answered 200. */
  private static void awaitResponse(String url) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        java.net.HttpURLConnection c = (java.net.HttpURLConnection) java.net.URI.create(url).toURL().openConnection();
        c.setConnectTimeout(1000);
        c.setReadTimeout(5000);
        try (InputStream in = c.getInputStream()) {
          in.readAllBytes();
        }
        if (c.getResponseCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline) {
          throw notYet;
        }
      }
      Thread.sleep(5);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** "Linux 6.18.44, 2 cores, ..." from the running system. */
  static String machine() throws IOException, InterruptedException {
    Process p = new ProcessBuilder("uname", "-srm").start();
    String uname;
    try (InputStream in = p.getInputStream()) {
      uname = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    }
    p.waitFor();
    String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
        .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown CPU");
    return uname + ", " + Runtime.getRuntime().availableProcessors() + " cores (" + cpu + ")";
  }
}
