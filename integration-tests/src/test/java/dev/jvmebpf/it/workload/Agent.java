package dev.jvmebpf.it.workload;

/** What a workload knows of the agent: the status it publishes as a system property. */
final class Agent {

  private Agent() {}

  /** Waits (up to 30 s) until the agent has started or given up; "none" without an agent. */
  static String awaitStatus() throws InterruptedException {
    if (System.getProperty("jvm.ebpf.agent.premain.nanos") == null) {
      return "none";
    }
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      String status = System.getProperty("jvm.ebpf.agent.status");
      if (status != null && !status.equals("starting")) {
        return status;
      }
      Thread.sleep(1); // the moment it is on is a window's start for some workloads
    }
    return "timeout";
  }

  /**
   * The GC MXBeans' counts where the agent's GC counts begin. The agent reads them around the
   * instant it opens its GC gate (the only one who knows that instant) and publishes them before
   * it says it is on; a reading here after the status would count a collection that ended in
   * between as before the window while the kernel counted it (seen under load: one young
   * collection ending 2 ms before the reading). Our own reading when the agent gives none.
   */
  static java.util.Map<String, Long> gcCountsAtStart() {
    String published = System.getProperty("jvm.ebpf.agent.gc.counted.after");
    if (published == null || published.isEmpty()) {
      return GcWorkload.counts();
    }
    java.util.Map<String, Long> counts = new java.util.TreeMap<>();
    for (String entry : published.split(";")) {
      int eq = entry.lastIndexOf('=');
      counts.put(entry.substring(0, eq), Long.parseLong(entry.substring(eq + 1)));
    }
    return counts;
  }
}
