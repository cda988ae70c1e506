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
      System.out.println("usage: Benchmarks allocation|allocation-heap|allocation-native [rounds]"
          + "   (run as root, after make build)");
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
      default -> throw new IllegalArgumentException("unknown benchmark " + args[0]);
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

  static void nativeAllocation(Runner runner, int rounds) throws Exception {
    String common = COMMON;
    List<Runner.Config> nativeConfigs = List.of(
        Runner.Config.without("no agent"),
        Runner.Config.with("agent, heap allocation on", common + ",probes.allocation=true"),
        Runner.Config.with("agent, heap + native on", common + ",probes.allocation=true,probes.native=true"));
    System.out.println();
    System.out.println("Native allocation: 1 thread, Unsafe.allocateMemory + freeMemory (libc malloc + free) of "
        + "16..4096 bytes, pairs per second, higher is better");
    runner.compare(nativeConfigs, rounds, AllocationWorkload.class, "native");
  }
}
