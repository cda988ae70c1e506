package dev.jvmebpf.it.workload;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs in the target JVM: a blocking client that sends {@code exchanges} 100-byte requests to
 * the test's server on loopback and reads each 100-byte reply, timing every read() with its own
 * clock. Prints {@code AGENT <status>}, then per read
 * {@code READ <exchange>\t<nanos>\t<bytes>\t<start>\t<waited>}: its start by {@code System.nanoTime}
 * and the nanoseconds the thread waited around it, runnable, for a CPU (its {@code schedstat}).
 *
 * <p>args: port exchanges
 */
public final class SlowReplyClient {

  private static final Path SCHEDSTAT = Path.of("/proc/thread-self/schedstat");

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int exchanges = Integer.parseInt(args[1]);
    System.out.println("AGENT " + Agent.awaitStatus());
    StringBuilder out = new StringBuilder();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      InputStream in = s.getInputStream();
      OutputStream os = s.getOutputStream();
      byte[] message = new byte[100];
      for (int i = 0; i < exchanges; i++) {
        exchange(i, in, os, message, out);
      }
    }
    System.out.print(out);
  }

  /**
   * Exchange {@code i}: the request, then reads until the reply of the same size is in, each read
   * timed by this JVM's clock into {@code out} as {@code READ <i>\t<nanos>\t<bytes>\t<start>\t<waited>}.
   */
  static void exchange(int i, InputStream in, OutputStream os, byte[] message, StringBuilder out)
      throws IOException {
    os.write(message);
    for (int got = 0; got < message.length; ) {
      long waited = runnableWaitNanos();
      long t0 = System.nanoTime();
      int n = in.read(message, got, message.length - got);
      long nanos = System.nanoTime() - t0;
      waited = runnableWaitNanos() - waited;
      if (n < 0) {
        throw new IllegalStateException("the server closed early");
      }
      out.append("READ ").append(i).append('\t').append(nanos).append('\t').append(n).append('\t')
          .append(t0).append('\t').append(waited).append('\n');
      got += n;
    }
  }

  /** This thread's time so far waiting, runnable, for a CPU: the kernel's schedstat, in ns. */
  static long runnableWaitNanos() throws IOException {
    String schedstat = Files.readString(SCHEDSTAT);
    int from = schedstat.indexOf(' ') + 1;
    return Long.parseLong(schedstat.substring(from, schedstat.indexOf(' ', from)));
  }
}
