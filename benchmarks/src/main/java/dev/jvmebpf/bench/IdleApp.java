package dev.jvmebpf.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Does nothing for the given milliseconds, then prints "MAIN_END &lt;wall-clock ms&gt;" and returns:
 * what a tool's start and exit cost on their own. With jvm-ebpf-agent it also prints
 * "ON_MS &lt;process uptime, ms&gt; &lt;status&gt;" once the agent's status says its probes are on.
 */
public final class IdleApp {

  public static void main(String[] args) throws Exception {
    long millis = Long.parseLong(args[0]);
    long end = System.nanoTime() + millis * 1_000_000L;
    boolean agent = System.getProperty("jvm.ebpf.agent.premain.nanos") != null;
    while (System.nanoTime() < end) {
      String status = System.getProperty("jvm.ebpf.agent.status");
      if (agent && status != null && !status.equals("starting")) {
        System.out.println("ON_MS " + uptimeMillis() + " " + status);
        agent = false;
      }
      Thread.sleep(agent ? 5 : Math.max(1, (end - System.nanoTime()) / 1_000_000L));
    }
    System.out.println("MAIN_END " + System.currentTimeMillis());
    System.out.flush();
  }

  /**
   * This process's age in ms, to 10 ms: the system's uptime (/proc/uptime) less the process's start
   * (/proc/self/stat field 22, in ticks of 1/100 s, Linux's USER_HZ). Not RuntimeMXBean: the
   * management classes it loads would cost the runs with the agent only some milliseconds of CPU.
   */
  static long uptimeMillis() throws java.io.IOException {
    String uptime = Files.readString(Path.of("/proc/uptime"), StandardCharsets.US_ASCII);
    double systemSeconds = Double.parseDouble(uptime.substring(0, uptime.indexOf(' ')));
    String stat = Files.readString(Path.of("/proc/self/stat"), StandardCharsets.ISO_8859_1);
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long startTicks = Long.parseLong(fields[22 - 3]);
    return Math.round(systemSeconds * 1000) - startTicks * 10;
  }
}
