package dev.jvmebpf.bench;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs in the benchmark's JVMs. "pingpong": two threads of this JVM exchange 64-byte messages
 * over a loopback TCP connection (blocking SocketChannels), round trips per second: each round
 * trip is two writes and two reads, four probed calls. "udp": one thread sends 16-byte
 * datagrams on a connected DatagramChannel to a loopback socket nobody reads (the kernel drops
 * them once its buffer is full), sends per second: one probed call each. Warms up 3 s, measures
 * 6 s (or the given seconds), prints "AGENT &lt;status&gt;" and "RESULT &lt;operations per second&gt;".
 * args: pingpong|udp [measureSeconds]
 */
public final class SocketWorkload {

  static volatile boolean stop;

  public static void main(String[] args) throws Exception {
    System.out.println("AGENT " + AllocationWorkload.awaitAgent());
    long measureNanos = (args.length > 1 ? Long.parseLong(args[1]) : 6) * 1_000_000_000L;
    LongAdder operations = new LongAdder();
    Runnable work = args[0].equals("pingpong") ? pingPong(operations) : udp(operations);
    Thread worker = new Thread(work, "bench-socket");
    worker.start();
    Thread.sleep(AllocationWorkload.WARMUP_NANOS / 1_000_000);
    operations.reset();
    long start = System.nanoTime();
    Thread.sleep(measureNanos / 1_000_000);
    long done = operations.sum();
    long elapsed = System.nanoTime() - start;
    stop = true;
    worker.join();
    System.out.println("RESULT " + done * 1e9 / elapsed);
    System.exit(0); // the echo thread may still be blocked in a read
  }

  private static Runnable pingPong(LongAdder operations) throws Exception {
    ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    SocketChannel client = SocketChannel.open(server.getLocalAddress());
    SocketChannel peer = server.accept();
    Thread echo = new Thread(() -> {
      ByteBuffer b = ByteBuffer.allocateDirect(64);
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
      } catch (Exception e) {
        // Closed at the end.
      }
    }, "bench-echo");
    echo.setDaemon(true);
    echo.start();
    return () -> {
      ByteBuffer b = ByteBuffer.allocateDirect(64);
      try {
        while (!stop) {
          b.clear();
          while (b.hasRemaining()) {
            client.write(b);
          }
          b.clear();
          while (b.hasRemaining()) {
            client.read(b);
          }
          operations.increment();
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
  }

  private static Runnable udp(LongAdder operations) throws Exception {
    DatagramChannel sink = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    DatagramChannel sender = DatagramChannel.open().connect(sink.getLocalAddress());
    return () -> {
      ByteBuffer b = ByteBuffer.allocateDirect(16);
      try {
        while (!stop) {
          b.clear();
          sender.write(b);
          operations.increment();
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
  }
}
