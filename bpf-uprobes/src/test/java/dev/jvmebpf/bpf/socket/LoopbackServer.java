package dev.jvmebpf.bpf.socket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

/**
 * A loopback server for the socket tests: each request on a connection is answered after the
 * next of {@link #DELAYS_MILLIS}, round robin. It counts the bytes it read and wrote, the oracle
 * for what the client moved. {@link Protocol#FIXED}: requests and replies of
 * {@link #MESSAGE} bytes; {@link Protocol#HTTP}: an HTTP/1.1 request (up to its blank line) and a
 * reply with a body of {@link #MESSAGE} bytes.
 */
public final class LoopbackServer implements AutoCloseable {

  public static final int MESSAGE = 100;
  public static final long[] DELAYS_MILLIS = {0, 5, 50};
  public static final byte[] HTTP_REPLY = ("HTTP/1.1 200 OK\r\nContent-Length: " + MESSAGE + "\r\n\r\n" + "x".repeat(MESSAGE))
      .getBytes(StandardCharsets.US_ASCII);

  public enum Protocol { FIXED, HTTP }

  /** The delays, in nanoseconds, before the answers to the first {@code requests} requests of a connection. */
  public static List<Long> delaysNanos(int requests) {
    return LongStream.range(0, requests).map(i -> DELAYS_MILLIS[(int) (i % DELAYS_MILLIS.length)] * 1_000_000)
        .boxed().toList();
  }

  private final ServerSocket server;
  private final Protocol protocol;
  private final Thread acceptor;
  public final AtomicLong bytesRead = new AtomicLong();
  public final AtomicLong bytesWritten = new AtomicLong();
  public final AtomicLong requests = new AtomicLong();

  public LoopbackServer(Protocol protocol) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.protocol = protocol;
    this.acceptor = new Thread(this::acceptLoop, "loopback-server-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  private void acceptLoop() {
    try {
      while (true) {
        Socket s = server.accept();
        Thread t = new Thread(() -> serve(s), "loopback-conn");
        t.setDaemon(true);
        t.start();
      }
    } catch (IOException closed) {
      // close() ends the loop.
    }
  }

  private void serve(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      for (int i = 0; ; i++) {
        byte[] reply;
        if (protocol == Protocol.FIXED) {
          byte[] request = in.readNBytes(MESSAGE);
          bytesRead.addAndGet(request.length);
          if (request.length < MESSAGE) {
            return;
          }
          reply = request;
        } else {
          if (!readHttpRequest(in)) {
            return;
          }
          reply = HTTP_REPLY;
        }
        requests.incrementAndGet();
        Thread.sleep(DELAYS_MILLIS[i % DELAYS_MILLIS.length]);
        out.write(reply);
        out.flush();
        bytesWritten.addAndGet(reply.length);
      }
    } catch (IOException | InterruptedException e) {
      // The client went away.
    }
  }

  /** Reads one request head; false at the end of the stream. */
  private boolean readHttpRequest(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      bytesRead.incrementAndGet();
      head.write(b);
      byte[] h = head.toByteArray();
      int n = h.length;
      if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
        return true;
      }
    }
    return false;
  }

  /** Until the server's counts have stood still for 50 ms (at most 5 s): the client's last bytes are in. */
  public void awaitQuiet() throws InterruptedException {
    long seen = -1;
    for (int i = 0; i < 100 && seen != bytesWritten.get() + bytesRead.get(); i++) {
      seen = bytesWritten.get() + bytesRead.get();
      Thread.sleep(50);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
