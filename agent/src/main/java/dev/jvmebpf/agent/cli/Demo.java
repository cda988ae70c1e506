package dev.jvmebpf.agent.cli;

import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code demo}: an allocation-heavy workload for about 20 seconds, a few hundred collections
 * (young ones from short-lived garbage, old ones from a slowly turning-over cache and a few
 * System.gc() calls). Meant to run with the agent attached as -javaagent; it only reports its
 * own progress, the agent prints the histograms.
 */
final class Demo {

  static final String HELP = "usage: java -javaagent:jvm-ebpf-agent.jar=exporter=console -Xmx256m \\\n"
      + "           -jar jvm-ebpf-agent.jar demo [seconds]\n\n"
      + "Allocates hard for the given time (default 20 s) so that the agent has collections and\n"
      + "safepoints to show. `make demo` runs exactly this.\n";

  /** Allocation pace: about 2.5 GB/s gives a few hundred collections in 20 s with -Xmx256m. */
  static final long BYTES_PER_SECOND = 2_500_000_000L;

  private static volatile Object sink;

  private Demo() {}

  static int run(int seconds, PrintStream out) throws InterruptedException {
    String status = awaitAgent();
    out.println("demo: agent " + status + "; allocating for " + seconds + " s");
    long start = System.nanoTime();
    long end = start + seconds * 1_000_000_000L;
    long nextReport = start + 5_000_000_000L;
    List<byte[]> cache = new ArrayList<>();
    long allocated = 0;
    int explicitGcs = 0;
    int i = 0;
    while (System.nanoTime() < end) {
      int size = 64 + (i * 31) % 8192;
      sink = new byte[size];
      allocated += size;
      if (i % 16 == 0) {
        cache.add(new byte[1024]);
        if (cache.size() > 60_000) {
          cache.subList(0, 30_000).clear();
        }
      }
      i++;
      if ((i & 1023) == 0 && allocated > (System.nanoTime() - start) * (BYTES_PER_SECOND / 1_000_000) / 1000) {
        Thread.sleep(1);
      }
      if (System.nanoTime() > nextReport) {
        if (explicitGcs < 3) {
          System.gc();
          explicitGcs++;
        }
        out.printf("demo: %d s, %d MiB allocated, %d collections so far%n",
            (System.nanoTime() - start) / 1_000_000_000L, allocated >> 20, collections());
        nextReport += 5_000_000_000L;
      }
    }
    out.printf("demo: done, %d MiB allocated, %d collections (the agent's last report follows)%n",
        allocated >> 20, collections());
    return CommandLine.OK;
  }

  private static long collections() {
    long n = 0;
    for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, bean.getCollectionCount());
    }
    return n;
  }

  /** The agent's status once it has started (up to 30 s), or "not attached". */
  private static String awaitAgent() throws InterruptedException {
    if (System.getProperty("jvm.ebpf.agent.premain.nanos") == null) {
      return "not attached (add -javaagent:jvm-ebpf-agent.jar=exporter=console)";
    }
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      String status = System.getProperty("jvm.ebpf.agent.status");
      if (status != null && !status.equals("starting")) {
        return status;
      }
      Thread.sleep(20);
    }
    return "still starting";
  }
}
