package dev.jvmebpf.it.workload;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs in the target JVM: loads the test-only thread context writer (otel_thread_ctx_writer.c, a
 * JNI library) before the agent is on, then makes {@code exchanges} 100-byte request and reply
 * exchanges with the test's slow server. Before the even exchanges the thread publishes a context
 * with fresh random ids and clears it after, and within it also looks up the name
 * {@code ctx<i>.invalid} (which fails); the odd ones run with none. Prints
 * {@code AGENT <status>}, then per exchange {@code EXCHANGE <i>\t<trace id or ->\t<span id or ->},
 * and per read the {@code READ} line of SlowReplyClient.
 *
 * <p>args: writer-library port exchanges
 */
public final class ThreadContextClient {

  static native void publish(byte[] traceId, byte[] spanId, int flags);

  static native void clear();

  public static void main(String[] args) throws Exception {
    System.load(args[0]);
    int port = Integer.parseInt(args[1]);
    int exchanges = Integer.parseInt(args[2]);
    System.out.println("AGENT " + Agent.awaitStatus());
    StringBuilder out = new StringBuilder();
    HexFormat hex = HexFormat.of();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      InputStream in = s.getInputStream();
      OutputStream os = s.getOutputStream();
      byte[] message = new byte[100];
      for (int i = 0; i < exchanges; i++) {
        boolean inSpan = i % 2 == 0;
        if (inSpan) {
          byte[] trace = new byte[16];
          byte[] span = new byte[8];
          ThreadLocalRandom.current().nextBytes(trace);
          ThreadLocalRandom.current().nextBytes(span);
          trace[0] |= 1; // never all zeros
          span[0] |= 1;
          publish(trace, span, 1);
          out.append("EXCHANGE ").append(i).append('\t').append(hex.formatHex(trace)).append('\t')
              .append(hex.formatHex(span)).append('\n');
        } else {
          out.append("EXCHANGE ").append(i).append("\t-\t-\n");
        }
        SlowReplyClient.exchange(i, in, os, message, out);
        if (inSpan) {
          try {
            InetAddress.getByName("ctx" + i + ".invalid");
          } catch (UnknownHostException expected) {
            // a failed lookup: a span of its own kind
          }
          clear();
        }
      }
    }
    System.out.print(out);
  }
}
