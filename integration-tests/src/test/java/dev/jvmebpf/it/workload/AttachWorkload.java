package dev.jvmebpf.it.workload;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs in a JVM started without the agent. Keeps a loopback socket conversation going on a thread
 * of its own (so the agent arrives in a JVM doing network work) and collects (allocation and
 * System.gc()) until an agent
 * announces itself through its status property, pauses while the agent starts, then collects for
 * the given time and prints the MXBeans' counts for that window:
 *
 * <pre>
 * AGENT &lt;status&gt;
 * BEAN &lt;collector&gt;\t&lt;collections after the agent had started&gt;
 * </pre>
 *
 * Pausing from "starting" until the final status keeps the workload's own collections out of the
 * agent's start. args: windowMillis [maxWaitMillis]
 */
public final class AttachWorkload {

  static volatile Object sink;

  public static void main(String[] args) throws Exception {
    long window = Long.parseLong(args[0]);
    long maxWait = args.length > 1 ? Long.parseLong(args[1]) : 60_000;
    Thread talk = new Thread(AttachWorkload::talk, "loopback-talk");
    talk.setDaemon(true);
    talk.start();
    System.out.println("READY");
    long giveUp = System.nanoTime() + maxWait * 1_000_000L;
    long nextGc = System.nanoTime();
    while (System.getProperty("jvm.ebpf.agent.status") == null) {
      if (System.nanoTime() > giveUp) {
        System.out.println("AGENT none");
        return;
      }
      collect(20_000);
      if (System.nanoTime() > nextGc) {
        System.gc();
        nextGc = System.nanoTime() + 200_000_000L;
      }
    }
    // The window begins with the MXBeans' counts the agent published for the instant its GC counts
    // began. Collections its own start set off before are in neither.
    String status;
    while ((status = System.getProperty("jvm.ebpf.agent.status")).equals("starting")) {
      Thread.sleep(1);
    }
    Map<String, Long> before = Agent.gcCountsAtStart();
    System.out.println("AGENT " + status);

    long end = System.nanoTime() + window * 1_000_000L;
    int gcs = 0;
    while (System.nanoTime() < end) {
      collect(50_000);
      if (gcs < 3 && System.nanoTime() > end - (3 - gcs) * window * 250_000L) {
        System.gc();
        gcs++;
      }
    }
    System.gc();
    Map<String, Long> after = GcWorkload.stableCounts();
    for (Map.Entry<String, Long> e : after.entrySet()) {
      System.out.println("BEAN " + e.getKey() + "\t" + (e.getValue() - before.get(e.getKey())));
    }
    System.out.println("UPTIME_MS " + ManagementFactory.getRuntimeMXBean().getUptime());
    System.out.println("EXCHANGES " + exchanges);
  }

  static volatile long exchanges;

  /** A request and a reply of 64 bytes each over loopback TCP, every few milliseconds, for good. */
  private static void talk() {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
         Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
         Socket peer = server.accept()) {
      byte[] message = new byte[64];
      while (true) {
        client.getOutputStream().write(message);
        peer.getInputStream().readNBytes(message, 0, message.length);
        peer.getOutputStream().write(message);
        client.getInputStream().readNBytes(message, 0, message.length);
        exchanges++;
        Thread.sleep(5);
      }
    } catch (Exception e) {
      System.out.println("TALK_FAILED " + e);
    }
  }

  private static void collect(int objects) {
    List<byte[]> batch = new ArrayList<>();
    for (int i = 0; i < objects; i++) {
      byte[] b = new byte[512];
      if (i % 16 == 0) {
        batch.add(b);
      }
      sink = b;
    }
    sink = batch;
  }
}
