package dev.jvmebpf.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.locks.LockSupport;

/**
 * Events at a steady rate for the agent's kernel programs, to show that the agent's own
 * user-space work per export does not grow with them (the kernel aggregates): one thread sends
 * 16-byte datagrams on a connected DatagramChannel to a loopback socket nobody reads (each send is
 * one probed libc call), {@code rate} per second, paced every millisecond. Prints "AGENT
 * &lt;status&gt;", then "READY &lt;pid&gt;" once the rate is running (the suite reads the agent's maps
 * then), and at the end "AGENT_CPU_MS &lt;CPU of the agent's threads, ms&gt; &lt;seconds&gt;" measured
 * over {@code seconds} after a 3 s warm-up, and "EVENTS &lt;datagrams sent meanwhile&gt;".
 * The agent's threads: those named jvm-ebpf-agent-* and the SDK's PeriodicMetricReader-*.
 *
 * <p>args: rate seconds
 */
public final class EventRateWorkload {

  public static void main(String[] args) throws Exception {
    System.out.println("AGENT " + AllocationWorkload.awaitAgent());
    long rate = Long.parseLong(args[0]);
    long seconds = Long.parseLong(args[1]);
    InetAddress loopback = InetAddress.getLoopbackAddress();
    try (DatagramChannel sink = DatagramChannel.open(); DatagramChannel out = DatagramChannel.open()) {
      sink.bind(new InetSocketAddress(loopback, 0));
      out.connect(sink.getLocalAddress());
      ByteBuffer datagram = ByteBuffer.allocate(16);
      long start = System.nanoTime();
      long sent = 0;
      long warmedUp = start + 3_000_000_000L;
      long end = warmedUp + seconds * 1_000_000_000L;
      long cpuBefore = -1;
      long sentBefore = 0;
      boolean ready = false;
      for (long now = start; now < end; now = System.nanoTime()) {
        long due = (now - start) * rate / 1_000_000_000L;
        for (; sent < due; sent++) {
          datagram.clear();
          out.write(datagram);
        }
        if (!ready) {
          System.out.println("READY " + ProcessHandle.current().pid());
          System.out.flush();
          ready = true;
        }
        if (cpuBefore < 0 && now >= warmedUp) {
          cpuBefore = agentCpuNanos();
          sentBefore = sent;
        }
        LockSupport.parkNanos(1_000_000L);
      }
      long cpu = agentCpuNanos() - cpuBefore;
      System.out.printf(java.util.Locale.ROOT, "AGENT_CPU_MS %.2f %d%n", cpu / 1e6, seconds);
      System.out.println("EVENTS " + (sent - sentBefore));
    }
  }

  /** CPU time of the agent's threads alive now (user and system), in nanoseconds. */
  static long agentCpuNanos() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long total = 0;
    for (long id : threads.getAllThreadIds()) {
      ThreadInfo info = threads.getThreadInfo(id);
      if (info != null && (info.getThreadName().startsWith("jvm-ebpf-agent")
          || info.getThreadName().startsWith("PeriodicMetricReader"))) {
        total += Math.max(0, threads.getThreadCpuTime(id));
      }
    }
    return total;
  }
}
