package dev.jvmebpf.agent.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code demo}: an allocation-heavy workload for about 20 seconds, a few hundred collections
 * (young ones from short-lived garbage, old ones from a slowly turning-over cache and a few
 * System.gc() calls), and beside it a loopback conversation whose server answers after 0, 2 or
 * 20 ms, a connect to a closed port and a few name lookups now and then. Meant to run with the
 * agent attached as -javaagent; it only reports its own progress, the agent prints the
 * histograms.
 */
final class Demo {

  static final String HELP = "usage: java -javaagent:jvm-ebpf-agent.jar=exporter=console -Xmx256m \\\n"
      + "           -jar jvm-ebpf-agent.jar demo [seconds]\n\n"
      + "Allocates hard for the given time (default 20 s) so that the agent has collections and\n"
      + "safepoints to show, and talks over loopback (replies after 0, 2 or 20 ms, a refused\n"
      + "connect, lookups of localhost and of a name under .invalid) for its socket and DNS\n"
      + "histograms. `make demo` runs exactly this.\n";

  /** Allocation pace: about 2.5 GB/s gives a few hundred collections in 20 s with -Xmx256m. */
  static final long BYTES_PER_SECOND = 2_500_000_000L;

  private static volatile Object sink;

  private Demo() {}

  static int run(int seconds, PrintStream out) throws InterruptedException {
    String status = awaitAgent();
    out.println("demo: agent " + status + "; allocating and talking over loopback for " + seconds + " s");
    Thread network = new Thread(Demo::talk, "demo-network");
    network.setDaemon(true);
    network.start();
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
    network.interrupt();
    network.join(2_000);
    out.printf("demo: done, %d MiB allocated, %d collections, %d loopback exchanges (the agent's last report "
        + "follows)%n", allocated >> 20, collections(), exchanges);
    return CommandLine.OK;
  }

  private static volatile long exchanges;

  /**
   * Request and reply of 256 bytes over loopback TCP, the server waiting 0, 2 or 20 ms in turn;
   * every second a connect to a port nobody listens on and lookups of localhost and of a name
   * that cannot exist. Until interrupted.
   */
  private static void talk() {
    long[] delays = {0, 2, 20};
    try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      Thread replier = new Thread(() -> {
        try (Socket peer = server.accept()) {
          byte[] message = new byte[256];
          for (int i = 0; peer.getInputStream().readNBytes(message, 0, message.length) == message.length; i++) {
            Thread.sleep(delays[i % delays.length]);
            peer.getOutputStream().write(message);
          }
        } catch (IOException | InterruptedException e) {
          // The demo is over.
        }
      }, "demo-server");
      replier.setDaemon(true);
      replier.start();
      int closedPort = closedPort();
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
        byte[] message = new byte[256];
        long nextSecond = System.nanoTime();
        while (!Thread.currentThread().isInterrupted()) {
          client.getOutputStream().write(message);
          client.getInputStream().readNBytes(message, 0, message.length);
          exchanges++;
          if (System.nanoTime() > nextSecond) {
            nextSecond += 1_000_000_000L;
            refusedConnect(closedPort);
            lookup("localhost");
            lookup("demo-" + (exchanges % 3) + ".invalid");
          }
          Thread.sleep(5);
        }
      }
    } catch (IOException e) {
      System.out.println("demo: loopback conversation failed: " + e);
    } catch (InterruptedException e) {
      // The demo is over.
    }
  }

  /** A loopback port nobody listens on (one that was free a moment ago). */
  private static int closedPort() throws IOException {
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return closed.getLocalPort();
    }
  }

  private static void refusedConnect(int port) {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      // Someone took the port meanwhile.
    } catch (IOException expected) {
      // Connection refused: what the demo wants to show.
    }
  }

  private static void lookup(String name) {
    try {
      InetAddress.getAllByName(name);
    } catch (UnknownHostException expected) {
      // A name under .invalid never resolves.
    }
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
