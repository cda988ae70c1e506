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
}
