package dev.jvmebpf.bench;

import java.lang.management.ManagementFactory;

/**
 * Does nothing for the given milliseconds, then prints "MAIN_END &lt;wall-clock ms&gt;" and returns:
 * what a tool's start and exit cost on their own. With jvm-ebpf-agent it also prints
 * "ON_MS &lt;JVM uptime&gt;" once the agent's status says its probes are on.
 */
public final class IdleApp {

  public static void main(String[] args) throws Exception {
    long millis = Long.parseLong(args[0]);
    long end = System.nanoTime() + millis * 1_000_000L;
    boolean agent = System.getProperty("jvm.ebpf.agent.premain.nanos") != null;
    while (System.nanoTime() < end) {
      String status = System.getProperty("jvm.ebpf.agent.status");
      if (agent && status != null && !status.equals("starting")) {
        System.out.println("ON_MS " + ManagementFactory.getRuntimeMXBean().getUptime() + " " + status);
        agent = false;
      }
      Thread.sleep(agent ? 5 : Math.max(1, (end - System.nanoTime()) / 1_000_000L));
    }
    System.out.println("MAIN_END " + System.currentTimeMillis());
    System.out.flush();
  }
}
