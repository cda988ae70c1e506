package dev.jvmebpf.it.workload;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs in the target JVM with the agent: clients of four kinds, each against its own port of
 * the test's loopback server (which answers after known delays), a few connects to a closed
 * port, name lookups and heavy file I/O. Reports what it did by its own count and clock:
 *
 * <pre>
 * AGENT &lt;status&gt;
 * CALLS &lt;client&gt;\t&lt;reads returning data&gt; &lt;reads finding nothing&gt; &lt;writes&gt;
 * READ_NANOS &lt;client&gt;\t&lt;duration of each read that returned data, comma-separated&gt;
 *     (selector: a reply's first read from its request's last write, where the wait was;
 *     http: each request from send to response)
 * REFUSED &lt;connects refused&gt;
 * LOOKUP &lt;name&gt;\t&lt;calls&gt; &lt;failures&gt;
 * FILE_BYTES &lt;bytes written and read back through a file&gt;
 * </pre>
 *
 * args: exchanges socketPort channelPort selectorPort httpPort closedPort lookups [names...]
 */
public final class NetworkWorkload {

  static final int MESSAGE = 100;

  public static void main(String[] args) throws Exception {
    System.out.println("AGENT " + Agent.awaitStatus());
    int exchanges = Integer.parseInt(args[0]);
    InetAddress loopback = InetAddress.getLoopbackAddress();
    socket(exchanges, new InetSocketAddress(loopback, Integer.parseInt(args[1])));
    channel(exchanges, new InetSocketAddress(loopback, Integer.parseInt(args[2])), false);
    channel(exchanges, new InetSocketAddress(loopback, Integer.parseInt(args[3])), true);
    http(exchanges, Integer.parseInt(args[4]));

    int refused = 0;
    for (int i = 0; i < 3; i++) {
      try (Socket s = new Socket(loopback, Integer.parseInt(args[5]))) {
        System.out.println("CLOSED_PORT_ANSWERED");
      } catch (IOException e) {
        refused++;
      }
    }
    System.out.println("REFUSED " + refused);

    int lookups = Integer.parseInt(args[6]);
    for (int n = 7; n < args.length; n++) {
      int failures = 0;
      for (int i = 0; i < lookups; i++) {
        try {
          InetAddress.getAllByName(args[n]);
        } catch (UnknownHostException e) {
          failures++;
        }
      }
      System.out.println("LOOKUP " + args[n] + "\t" + lookups + " " + failures);
    }

    // 64 MiB through a file, 4 KiB at a time: libc reads and writes that are not socket I/O.
    Path file = Files.createTempFile("jeb-network-workload", ".bin");
    long bytes = 0;
    try {
      byte[] chunk = new byte[4096];
      try (OutputStream out = Files.newOutputStream(file)) {
        for (int i = 0; i < 16384; i++) {
          out.write(chunk);
          bytes += chunk.length;
        }
      }
      try (InputStream in = Files.newInputStream(file)) {
        for (int n; (n = in.read(chunk)) > 0; ) {
          bytes += n;
        }
      }
    } finally {
      Files.delete(file);
    }
    System.out.println("FILE_BYTES " + bytes);
  }

  private static void socket(int exchanges, InetSocketAddress server) throws IOException {
    List<Long> readNanos = new ArrayList<>();
    int writes = 0;
    try (Socket s = new Socket(server.getAddress(), server.getPort())) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] message = new byte[MESSAGE];
      for (int i = 0; i < exchanges; i++) {
        out.write(message);
        writes++;
        for (int got = 0; got < MESSAGE; ) {
          long t0 = System.nanoTime();
          int n = in.read(message, got, MESSAGE - got);
          readNanos.add(System.nanoTime() - t0);
          got += n;
        }
      }
    }
    report("socket", readNanos, 0, writes);
  }

  private static void channel(int exchanges, InetSocketAddress server, boolean selector) throws IOException {
    List<Long> readNanos = new ArrayList<>();
    int empty = 0;
    int writes = 0;
    try (SocketChannel ch = SocketChannel.open(server); Selector sel = Selector.open()) {
      if (selector) {
        ch.configureBlocking(false);
        ch.register(sel, SelectionKey.OP_READ);
      }
      for (int i = 0; i < exchanges; i++) {
        ByteBuffer request = ByteBuffer.allocate(MESSAGE);
        long sent = 0;
        while (request.hasRemaining()) {
          sent = System.nanoTime();
          ch.write(request);
          writes++;
        }
        ByteBuffer reply = ByteBuffer.allocate(MESSAGE);
        boolean first = true;
        while (reply.hasRemaining()) {
          long t0 = System.nanoTime();
          int n = ch.read(reply);
          long took = System.nanoTime() - (selector && first && n > 0 ? sent : t0);
          if (n > 0) {
            readNanos.add(took);
            first = false;
          } else {
            empty++;
            sel.select();
            sel.selectedKeys().clear();
          }
        }
      }
    }
    report(selector ? "selector" : "channel", readNanos, empty, writes);
  }

  private static void http(int exchanges, int port) throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI uri = URI.create("http://127.0.0.1:" + port + "/");
    List<Long> requestNanos = new ArrayList<>();
    for (int i = 0; i < exchanges; i++) {
      long t0 = System.nanoTime();
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
      requestNanos.add(System.nanoTime() - t0);
      if (r.body().length() != MESSAGE) {
        throw new IOException("reply of " + r.body().length() + " bytes");
      }
    }
    report("http", requestNanos, 0, exchanges);
  }

  private static void report(String client, List<Long> readNanos, int empty, int writes) {
    System.out.println("CALLS " + client + "\t" + readNanos.size() + " " + empty + " " + writes);
    System.out.println("READ_NANOS " + client + "\t" + String.join(",", readNanos.stream().map(String::valueOf)
        .toList()));
  }
}
