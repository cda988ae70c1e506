package dev.jvmebpf.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Overhead benchmarks: each runs a workload in fresh JVMs without and with the agent, the
 * configurations interleaved round by round so that they share the machine's state, and reports
 * medians and their ratio to the run without the agent.
 *
 * <pre>
 * java -cp benchmarks/target/classes dev.jvmebpf.bench.Benchmarks allocation [rounds]
 * </pre>
 */
public final class Benchmarks {

  private Benchmarks() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("--help")) {
      System.out.println("usage: Benchmarks suite|allocation|allocation-heap|allocation-native|socket [rounds]"
          + "   (run as root, after make build)");
      return;
    }
    if (args[0].equals("suite")) {
      suite(args.length > 1 ? Integer.parseInt(args[1]) : 3);
      return;
    }
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Path agent = Path.of(System.getProperty("bench.agent", "agent/target/jvm-ebpf-agent.jar")).toAbsolutePath();
    if (!Files.isRegularFile(agent)) {
      throw new IOException("no agent jar at " + agent + "; run make build first (or set -Dbench.agent)");
    }
    String classes = Path.of(Benchmarks.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    System.out.printf(Locale.ROOT, "%s, %d cores, %s %s; %d rounds, configurations interleaved%n",
        System.getProperty("os.name") + " " + System.getProperty("os.version"),
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"),
        System.getProperty("java.version"), rounds);
    switch (args[0]) {
      case "allocation" -> {
        heapAllocation(new Runner(java, classes, agent), rounds);
        nativeAllocation(new Runner(java, classes, agent), rounds);
      }
      case "allocation-heap" -> heapAllocation(new Runner(java, classes, agent), rounds);
      case "allocation-native" -> nativeAllocation(new Runner(java, classes, agent), rounds);
      case "socket" -> sockets(new Runner(java, classes, agent), rounds);
      default -> throw new IllegalArgumentException("unknown benchmark " + args[0]);
    }
  }

  /**
   * The side-by-side suite against the OpenTelemetry Java agent and JFR ({@link Suite}); writes
   * benchmarks/RESULTS.md and benchmarks/results.csv.
   */
  static void suite(int rounds) throws Exception {
    Path agent = Path.of(System.getProperty("bench.agent", "agent/target/jvm-ebpf-agent.jar")).toAbsolutePath();
    Path otelAgent = Path.of(System.getProperty("bench.otel.agent",
        "benchmarks/target/tools/opentelemetry-javaagent.jar")).toAbsolutePath();
    Path jdk = Path.of(System.getProperty("bench.jdk", "/usr/lib/jvm/temurin-25-jdk-amd64"));
    Path out = Path.of(System.getProperty("bench.out", "benchmarks")).toAbsolutePath();
    for (Path required : List.of(agent, otelAgent, jdk.resolve("bin/java"), jdk.resolve("lib/src.zip"))) {
      if (!Files.exists(required)) {
        throw new IOException("missing " + required + " (make bench fetches the OpenTelemetry Java agent; "
            + "-Dbench.jdk names a JDK 18+ with src.zip)");
      }
    }
    Path work = Files.createTempDirectory("jeb-bench-");
    try {
      Suite suite = new Suite(jdk, agent, otelAgent, work, rounds);
      String machine = Suite.machine();
      System.out.println(machine + "; " + rounds + " rounds, the tools interleaved");
      suite.run();
      Files.writeString(out.resolve("RESULTS.md"), suite.markdown(machine));
      Files.writeString(out.resolve("results.csv"), suite.csv());
      System.out.println(suite.markdown(machine));
      System.out.println("written: " + out.resolve("RESULTS.md") + ", " + out.resolve("results.csv"));
    } finally {
      Suite.deleteTree(work);
    }
  }

  static final String COMMON = "exporter=none,interval=10s,probes.gc=true,probes.safepoint=true";

  static void heapAllocation(Runner runner, int rounds) throws Exception {
    String common = COMMON;
    List<Runner.Config> heap = List.of(
        Runner.Config.without("no agent"),
        Runner.Config.with("agent, allocation off", common + ",probes.allocation=false"),
        Runner.Config.with("agent, heap allocation on", common + ",probes.allocation=true"),
        Runner.Config.with("agent, heap + native on", common + ",probes.allocation=true,probes.native=true"));
    System.out.println();
    System.out.println("Heap allocation: 2 threads allocating small lists, maps, strings and arrays, "
        + "operations per second, higher is better");
    runner.compare(heap, rounds, AllocationWorkload.class, "heap");
  }

  static void sockets(Runner runner, int rounds) throws Exception {
    String agentOnly = COMMON + ",probes.allocation=false";
    List<Runner.Config> configs = List.of(
        Runner.Config.without("no agent"),
        Runner.Config.with("agent, socket probes off", agentOnly + ",probes.socket=false,probes.dns=false"),
        Runner.Config.with("socket probes, decoded", agentOnly + ",probes.socket=true"),
        // exporter=none turns spans off with the metrics; here they are on (no slow call: nothing is
        // printed), which puts the span path's threshold checks and reader thread in the comparison.
        Runner.Config.with("socket probes, spans on", agentOnly + ",probes.socket=true,otel.traces.exporter=logging-otlp"),
        Runner.Config.with("socket probes at entry", agentOnly + ",probes.socket=true,probes.placement=entry"));
    System.out.println();
    System.out.println("Loopback ping-pong: 2 threads, 64-byte messages over TCP (blocking SocketChannels), round trips"
        + " per second, higher is better; each round trip is 2 writes + 2 reads, 4 probed calls");
    runner.compare(configs, rounds, SocketWorkload.class, "pingpong");
    System.out.println();
    System.out.println("UDP sends: 1 thread, 16-byte datagrams on a connected DatagramChannel, sends per second, "
        + "higher is better; one probed call each. Cost per call = 1/ratio rate - 1/baseline rate");
    runner.compare(configs, rounds, SocketWorkload.class, "udp");
    System.out.println();
    System.out.println("Another process: a JVM without the agent sending UDP (as above) while a second JVM runs the "
        + "ping-pong without / with socket probes; the first JVM's sends per second, higher is better");
    runner.compareBeside(List.of(configs.get(0), configs.get(2)), rounds, SocketWorkload.class,
        List.of("pingpong", "60"), SocketWorkload.class, "udp");
  }

  static void nativeAllocation(Runner runner, int rounds) throws Exception {
    String common = COMMON;
    List<Runner.Config> nativeConfigs = List.of(
        Runner.Config.without("no agent"),
        Runner.Config.with("agent, heap allocation on", common + ",probes.allocation=true"),
        Runner.Config.with("agent, heap + native on", common + ",probes.allocation=true,probes.native=true"),
        Runner.Config.with("same, probes at entry", common
            + ",probes.allocation=true,probes.native=true,probes.placement=entry"));
    System.out.println();
    System.out.println("Native allocation: 1 thread, Unsafe.allocateMemory + freeMemory (libc malloc + free) of "
        + "16..4096 bytes, pairs per second, higher is better");
    runner.compare(nativeConfigs, rounds, AllocationWorkload.class, "native");
  }
}
