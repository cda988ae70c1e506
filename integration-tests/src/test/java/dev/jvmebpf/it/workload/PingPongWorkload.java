package dev.jvmebpf.it.workload;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Two threads of this JVM exchange 64-byte messages over loopback TCP for the given time, then
 * report, and whether the kernel ever mapped its uprobe area into this process (it does once a
 * uretprobe fires here: the trampoline lives there):
 *
 * <pre>
 * AGENT &lt;status&gt;
 * PORT &lt;the listening port&gt;
 * ROUND_TRIPS &lt;round trips&gt; NANOS &lt;elapsed&gt;
 * UPROBES_MAPPED &lt;true|false&gt;
 * </pre>
 *
 * args: millis
 */
public final class PingPongWorkload {

  public static void main(String[] args) throws Exception {
    System.out.println("AGENT " + Agent.awaitStatus());
    long millis = Long.parseLong(args[0]);
    try (ServerSocketChannel server = ServerSocketChannel.open()
        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      System.out.println("PORT " + ((InetSocketAddress) server.getLocalAddress()).getPort());
      SocketChannel client = SocketChannel.open(server.getLocalAddress());
      SocketChannel peer = server.accept();
      Thread echo = new Thread(() -> {
        ByteBuffer b = ByteBuffer.allocate(64);
        try {
          while (true) {
            b.clear();
            while (b.hasRemaining()) {
              if (peer.read(b) < 0) {
                return;
              }
            }
            b.flip();
            while (b.hasRemaining()) {
              peer.write(b);
            }
          }
        } catch (Exception closed) {
          // The client went away.
        }
      }, "echo");
      echo.setDaemon(true);
      echo.start();
      ByteBuffer b = ByteBuffer.allocate(64);
      long start = System.nanoTime();
      long end = start + millis * 1_000_000L;
      long roundTrips = 0;
      while (System.nanoTime() < end) {
        b.clear();
        while (b.hasRemaining()) {
          client.write(b);
        }
        b.clear();
        while (b.hasRemaining()) {
          client.read(b);
        }
        roundTrips++;
      }
      System.out.println("ROUND_TRIPS " + roundTrips + " NANOS " + (System.nanoTime() - start));
      client.close();
    }
    boolean mapped = Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(l -> l.endsWith("[uprobes]"));
    System.out.println("UPROBES_MAPPED " + mapped);
  }
}
