package dev.jvmebpf.bpf.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real BPF on this test JVM (the build's JDK; the end-to-end tests cover 17 and 25): clients of
 * each kind against a loopback server that answers after known delays. Oracles: the client's own
 * clock around each of its calls, its own count of calls, the server's count of bytes, the
 * errors the JDK reports, and the file system for file I/O.
 */
class SocketProbesTest {

  static final HistogramLayout NANOS = HistogramLayout.nanosecondsAsSeconds(3);
  static final HistogramLayout BYTES = HistogramLayout.create(3, 1);
  static final int EXCHANGES = 12;
  /** The most a call's kernel duration may fall short of the client's clock (or 20% of it, if more). */
  static final long SLACK_NANOS = 5_000_000;

  static Libbpf libbpf;
  static SocketProbes probes;

  @BeforeAll
  static void attach() throws Exception {
    libbpf = BpfTestSupport.requireBpf();
    probes = SocketProbes.attach(libbpf, JvmProcess.current(), NANOS, BYTES, 64, false);
  }

  @AfterAll
  static void detach() {
    if (probes != null) {
      probes.close();
    }
  }

  enum Client { SOCKET, CHANNEL, SELECTOR, HTTP_CLIENT }

  /** One call the client made: what it returned, how long it took by the client's clock. */
  record Call(long result, long nanos) {}

  @ParameterizedTest
  @EnumSource(Client.class)
  void receivesAreTimedAndCountedAsTheClientSawThem(Client kind) throws Exception {
    List<Call> reads = new ArrayList<>();
    List<Call> writes = new ArrayList<>();
    List<Long> requestNanos = new ArrayList<>();
    try (LoopbackServer server = new LoopbackServer(
        kind == Client.HTTP_CLIENT ? LoopbackServer.Protocol.HTTP : LoopbackServer.Protocol.FIXED)) {
      // The series are cumulative and this JVM's earlier sockets may have had the server's port.
      SocketSnapshot before = probes.snapshot();
      switch (kind) {
        case SOCKET -> socketClient(server.port(), reads, writes);
        case CHANNEL -> channelClient(server.port(), reads, writes);
        case SELECTOR -> selectorClient(server.port(), reads, writes);
        case HTTP_CLIENT -> httpClient(server.port(), requestNanos);
      }
      server.awaitQuiet();
      SocketSnapshot snapshot = since(before, probes.snapshot());
      Predicate<SocketPeer> toServer = p -> p.port() == server.port() && p.address().equals("127.0.0.1")
          && p.transport().equals("tcp");
      long received = sum(snapshot, toServer, "receive", null, HistogramSnapshot::sum, true);
      long sent = sum(snapshot, toServer, "transmit", null, HistogramSnapshot::sum, true);
      // Bytes: exactly what the server wrote and read, whatever the client's way of calling.
      String drops = diagnosis(snapshot, toServer);
      assertEquals(server.bytesWritten.get(), received, kind + ": bytes received from the server" + drops);
      assertEquals(server.bytesRead.get(), sent, kind + ": bytes sent to the server" + drops);
      assertEquals(EXCHANGES, server.requests.get(), kind + ": requests the server answered");
      assertEquals(1, snapshot.connects().stream().filter(c -> toServer.test(c.peer()) && c.error() == null)
          .mapToLong(c -> c.durations().count()).sum(), kind + ": connects to the server");

      long receives = sum(snapshot, toServer, "receive", null, HistogramSnapshot::count, false);
      long wouldBlock = sum(snapshot, toServer, "receive", "EAGAIN", HistogramSnapshot::count, false);
      if (kind == Client.HTTP_CLIENT) {
        // Its selector thread reads until a read finds nothing: at least one read per reply.
        assertTrue(receives >= EXCHANGES, "HttpClient receives: " + receives);
        HistogramSnapshot durations = series(snapshot, toServer, "receive", null).durations();
        assertWaitsAgree(durations, requestNanos, kind);
        System.out.printf("%s: %d requests, %d receives + %d that would block; %d bytes received, %d sent, as the "
            + "server counted; reply waits %s between the server's delays and the client's clock%n", kind, EXCHANGES,
            receives, wouldBlock, received, sent, durations);
        return;
      }
      // One libc call per Java call on these clients: counts are exact.
      assertEquals(reads.stream().filter(c -> c.result() > 0).count(), receives, kind + ": receives");
      assertEquals(reads.stream().filter(c -> c.result() == 0).count(), wouldBlock, kind + ": reads that found nothing");
      assertEquals(writes.stream().filter(c -> c.result() > 0).count(),
          sum(snapshot, toServer, "transmit", null, HistogramSnapshot::count, false), kind + ": transmits");
      HistogramSnapshot durations = series(snapshot, toServer, "receive", null).durations();
      assertBucketsAgree(durations, reads.stream().filter(c -> c.result() > 0).map(Call::nanos).toList(), kind);
      System.out.printf("%s: %d receives, %d that would block, %d transmits; receive durations %s in the buckets of"
          + " the client's own clock%n", kind, receives, wouldBlock, writes.size(), durations);
    }
  }

  /**
   * 64 new peers at once (the default bound's worth), each a new series in every map: a burst must
   * lose nothing while the maps have room (it did when new entries were allocated in the probe's
   * context: 7 to 20 of 64 lost). A family of its own, so that the peers of earlier tests do not
   * count against its bound, which is one more than the peers: the servers' own side of the
   * connections, in this JVM too, is one inbound series.
   */
  @Test
  void aBurstOfNewPeersLosesNothing() throws Exception {
    int peers = 64;
    List<LoopbackServer> servers = new ArrayList<>();
    try (SocketProbes fresh = SocketProbes.attach(libbpf, JvmProcess.current(), NANOS, BYTES, peers + 1, false)) {
      for (int i = 0; i < peers; i++) {
        servers.add(new LoopbackServer(LoopbackServer.Protocol.FIXED));
      }
      java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
      List<Thread> clients = new ArrayList<>();
      List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
      for (LoopbackServer server : servers) {
        Thread t = new Thread(() -> {
          try (Socket s = new Socket()) {
            start.await();
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
            s.getOutputStream().write(new byte[LoopbackServer.MESSAGE]);
            s.getInputStream().readNBytes(LoopbackServer.MESSAGE);
          } catch (Throwable e) {
            failures.add(e);
          }
        }, "burst-client-" + server.port());
        t.start();
        clients.add(t);
      }
      start.countDown();
      for (Thread t : clients) {
        t.join(30_000);
      }
      assertTrue(failures.isEmpty(), "clients failed: " + failures);
      for (LoopbackServer server : servers) {
        server.awaitQuiet();
      }
      SocketSnapshot snapshot = fresh.snapshot();
      for (LoopbackServer server : servers) {
        Predicate<SocketPeer> toServer = p -> p.port() == server.port() && p.address().equals("127.0.0.1")
            && p.transport().equals("tcp");
        String why = " of peer " + server.port() + diagnosis(snapshot, toServer);
        assertEquals(server.bytesWritten.get(), sum(snapshot, toServer, "receive", null, HistogramSnapshot::sum, true),
            "bytes received" + why);
        assertEquals(server.bytesRead.get(), sum(snapshot, toServer, "transmit", null, HistogramSnapshot::sum, true),
            "bytes sent" + why);
      }
      assertEquals(0, snapshot.probes().stream().mapToLong(ProbeStats::dropped).sum(),
          "events dropped" + diagnosis(snapshot, p -> true));
      System.out.printf("a burst of %d new peers at once: every byte of each in its own series, none dropped%n", peers);
    } finally {
      for (LoopbackServer server : servers) {
        server.close();
      }
    }
  }

  @Test
  void aRefusedConnectCarriesItsError() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    SocketSnapshot before = probes.snapshot();
    int refused = 0;
    for (int i = 0; i < 3; i++) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        throw new AssertionError("port " + port + " is open");
      } catch (ConnectException expected) {
        refused++;
      }
    }
    final int closedPort = port;
    long counted = since(before, probes.snapshot()).connects().stream()
        .filter(c -> c.peer().port() == closedPort && "ECONNREFUSED".equals(c.error()))
        .mapToLong(c -> c.durations().count()).sum();
    assertEquals(refused, counted, "refused connects to " + port);
  }

  @Test
  void fileAndPipeIoAddNothing() throws Exception {
    SocketSnapshot before = quietSnapshot();
    long readsBefore = events(before, "uprobe_read") + events(before, "uprobe_write");
    Path file = Files.createTempFile("jeb-socket-test", ".bin");
    int chunks = 2000;
    try {
      byte[] chunk = new byte[4096];
      try (OutputStream out = Files.newOutputStream(file)) {
        for (int i = 0; i < chunks; i++) {
          out.write(chunk);
        }
      }
      try (InputStream in = Files.newInputStream(file)) {
        while (in.read(chunk) > 0) {
          // Each read is a libc read of a file.
        }
      }
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        ByteBuffer b = ByteBuffer.allocateDirect(4096);
        while (ch.read(b) > 0) {
          b.clear();
        }
      }
      Process cat = new ProcessBuilder("cat").start();
      try (OutputStream toCat = cat.getOutputStream(); InputStream fromCat = cat.getInputStream()) {
        for (int i = 0; i < 100; i++) {
          toCat.write(chunk, 0, 100);
          toCat.flush();
          fromCat.readNBytes(100);
        }
      }
      cat.waitFor();
    } finally {
      Files.delete(file);
    }
    SocketSnapshot after = probes.snapshot();
    long seen = events(after, "uprobe_read") + events(after, "uprobe_write") - readsBefore;
    assertTrue(seen >= 3 * chunks, "the probes saw the file's reads and writes: " + seen);
    assertEquals(totals(before), totals(after), "socket series after file and pipe I/O");
  }

  @Test
  void peersBeyondTheBoundCountAsOther() throws Exception {
    int limit = 4;
    int peers = 7;
    int perPeer = 3;
    try (SocketProbes bounded = SocketProbes.attach(libbpf, JvmProcess.current(), NANOS, BYTES, limit, false);
         DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      List<Integer> ports = new ArrayList<>();
      for (int p = 0; p < peers; p++) {
        try (DatagramSocket target = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
          ports.add(target.getLocalPort());
        }
      }
      for (int round = 0; round < perPeer; round++) {
        for (int port : ports) {
          udp.send(new DatagramPacket(new byte[10], 10, InetAddress.getLoopbackAddress(), port));
        }
      }
      SocketSnapshot s = bounded.snapshot();
      long ownSeries = s.io().stream().filter(io -> !io.peer().other() && ports.contains(io.peer().port())
          && io.peer().transport().equals("udp")).mapToLong(io -> io.durations().count()).sum();
      long other = s.io().stream().filter(io -> io.peer().other()).mapToLong(io -> io.durations().count()).sum();
      long distinct = s.io().stream().filter(io -> !io.peer().other()).map(SocketSnapshot.Io::peer).distinct().count();
      long overflow = s.probes().stream().mapToLong(ProbeStats::overflow).sum();
      assertTrue(distinct <= limit, "peers with a series of their own: " + distinct);
      // Other sockets of this JVM may have taken some of the bound first; ours fill the rest.
      assertEquals((long) peers * perPeer, ownSeries + other, "datagrams sent");
      assertTrue(other >= (long) (peers - limit) * perPeer, "datagrams under other: " + other);
      assertEquals(other, overflow, "the overflow counter counts what went to other");
    }
  }

  /** A connection that existed before the probes (as after a dynamic attach) counts with its peer. */
  @Test
  void socketsOpenedBeforeTheProbesCount() throws Exception {
    try (LoopbackServer server = new LoopbackServer(LoopbackServer.Protocol.FIXED);
         Socket early = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      byte[] message = new byte[LoopbackServer.MESSAGE];
      early.getOutputStream().write(message);
      early.getInputStream().readNBytes(message, 0, message.length);
      try (SocketProbes late = SocketProbes.attach(libbpf, JvmProcess.current(), NANOS, BYTES, 64, false)) {
        for (int i = 0; i < 3; i++) {
          early.getOutputStream().write(message);
          early.getInputStream().readNBytes(message, 0, message.length);
        }
        server.awaitQuiet();
        SocketSnapshot s = late.snapshot();
        Predicate<SocketPeer> toServer = p -> p.port() == server.port() && p.address().equals("127.0.0.1");
        assertEquals(3L * message.length, sum(s, toServer, "transmit", null, HistogramSnapshot::sum, true),
            "bytes sent after the probes came, on a socket from before");
        assertEquals(3L * message.length, sum(s, toServer, "receive", null, HistogramSnapshot::sum, true));
      }
    }
  }

  @Test
  void inboundConnectionsAreByClientAddressWithoutItsPort() throws Exception {
    try (ServerSocket before = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
         SocketProbes fresh = SocketProbes.attach(libbpf, JvmProcess.current(), NANOS, BYTES, 64, false);
         ServerSocket after = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      List<Integer> clientPorts = new ArrayList<>();
      // One listener known from /proc at attach, one from its listen() call.
      for (ServerSocket listener : List.of(before, after)) {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
             Socket accepted = listener.accept()) {
          clientPorts.add(client.getLocalPort());
          client.getOutputStream().write(new byte[10]);
          accepted.getInputStream().readNBytes(10);
          accepted.getOutputStream().write(new byte[20]);
          client.getInputStream().readNBytes(20);
        }
      }
      SocketSnapshot s = fresh.snapshot();
      assertTrue(s.io().stream().noneMatch(io -> clientPorts.contains(io.peer().port())),
          "series by the clients' ephemeral ports: " + s.io());
      Predicate<SocketPeer> inbound = p -> p.address().equals("127.0.0.1") && p.port() == 0
          && p.transport().equals("tcp");
      assertEquals(20, sum(s, inbound, "receive", null, HistogramSnapshot::sum, true), "bytes the listeners' sockets read");
      assertEquals(40, sum(s, inbound, "transmit", null, HistogramSnapshot::sum, true), "bytes they wrote");
      for (ServerSocket listener : List.of(before, after)) {
        assertEquals(10, sum(s, p -> p.port() == listener.getLocalPort(), "transmit", null, HistogramSnapshot::sum,
            true), "bytes the client sent to " + listener.getLocalPort());
      }
    }
  }

  /**
   * One link for all entries and one for all returns where the kernel has uprobe_multi links;
   * one per function and direction otherwise, the cookies telling the functions apart either way.
   */
  @Test
  void probesAtTheFunctionsEntriesSeeEveryCallToo() throws Exception {
    // At offset 0 (probes.placement=entry) nothing has moved the stack either: the return still
    // finds its entry's record by the stack pointer.
    try (SocketProbes atEntry = SocketProbes.attach(libbpf, JvmProcess.current(), NANOS, BYTES, 64, true);
         LoopbackServer server = new LoopbackServer(LoopbackServer.Protocol.FIXED)) {
      assertTrue(atEntry.placements().stream().allMatch(p -> p.offset() == 0), atEntry.placements().toString());
      List<Call> reads = new ArrayList<>();
      List<Call> writes = new ArrayList<>();
      socketClient(server.port(), reads, writes);
      server.awaitQuiet();
      SocketSnapshot s = atEntry.snapshot();
      Predicate<SocketPeer> toServer = p -> p.port() == server.port();
      assertEquals(server.bytesWritten.get(), sum(s, toServer, "receive", null, HistogramSnapshot::sum, true),
          diagnosis(s, toServer));
      assertEquals(server.bytesRead.get(), sum(s, toServer, "transmit", null, HistogramSnapshot::sum, true),
          diagnosis(s, toServer));
      assertEquals(reads.stream().filter(c -> c.result() > 0).count(),
          sum(s, toServer, "receive", null, HistogramSnapshot::count, false), "receives");
      assertBucketsAgree(series(s, toServer, "receive", null).durations(),
          reads.stream().filter(c -> c.result() > 0).map(Call::nanos).toList(), "at entry");
    }
  }

  @Test
  void bothWaysOfAttachingTellTheFunctionsApart() throws Exception {
    assertEquals(libbpf.hasUprobeMulti() ? 2 : 2 * SocketStructs.FUNCTIONS.size(), probes.attachedPrograms().size(),
        "links of the family: " + probes.attachedPrograms());
    libbpf.setUprobeMultiOff(true);
    try (SocketProbes oneByOne = SocketProbes.attach(libbpf, JvmProcess.current(), NANOS, BYTES, 64, false);
         LoopbackServer server = new LoopbackServer(LoopbackServer.Protocol.FIXED)) {
      assertEquals(2 * SocketStructs.FUNCTIONS.size(), oneByOne.attachedPrograms().size());
      List<Call> reads = new ArrayList<>();
      List<Call> writes = new ArrayList<>();
      socketClient(server.port(), reads, writes);
      server.awaitQuiet();
      SocketSnapshot s = oneByOne.snapshot();
      Predicate<SocketPeer> toServer = p -> p.port() == server.port();
      // A wrong cookie would put a read's bytes under transmit, or lose them.
      assertEquals(server.bytesWritten.get(), sum(s, toServer, "receive", null, HistogramSnapshot::sum, true));
      assertEquals(server.bytesRead.get(), sum(s, toServer, "transmit", null, HistogramSnapshot::sum, true));
      assertEquals(1, s.connects().stream().filter(c -> toServer.test(c.peer())).count(), "the connect, by cookie");
    } finally {
      libbpf.setUprobeMultiOff(false);
    }
  }

  // -- clients --------------------------------------------------------------------------------

  static void socketClient(int port, List<Call> reads, List<Call> writes) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] message = new byte[LoopbackServer.MESSAGE];
      for (int i = 0; i < EXCHANGES; i++) {
        out.write(message);
        writes.add(new Call(message.length, 0));
        for (int got = 0; got < message.length; ) {
          long t0 = System.nanoTime();
          int n = in.read(message, got, message.length - got);
          reads.add(new Call(n, System.nanoTime() - t0));
          got += n;
        }
      }
    }
  }

  static void channelClient(int port, List<Call> reads, List<Call> writes) throws IOException {
    channelClient(port, reads, writes, false);
  }

  static void selectorClient(int port, List<Call> reads, List<Call> writes) throws IOException {
    channelClient(port, reads, writes, true);
  }

  /** A SocketChannel, blocking, or non-blocking and selecting whenever a read finds nothing. */
  private static void channelClient(int port, List<Call> reads, List<Call> writes, boolean select)
      throws IOException {
    try (SocketChannel ch = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
         Selector selector = Selector.open()) {
      if (select) {
        ch.configureBlocking(false);
        ch.register(selector, SelectionKey.OP_READ);
      }
      for (int i = 0; i < EXCHANGES; i++) {
        ByteBuffer request = ByteBuffer.allocate(LoopbackServer.MESSAGE);
        long sent = 0;
        while (request.hasRemaining()) {
          sent = System.nanoTime();
          writes.add(new Call(ch.write(request), 0));
        }
        ByteBuffer reply = ByteBuffer.allocate(LoopbackServer.MESSAGE);
        boolean first = true;
        while (reply.hasRemaining()) {
          long t0 = System.nanoTime();
          int n = ch.read(reply);
          // Without blocking the wait is in select: the reply's first bytes are timed from the request.
          reads.add(new Call(n, System.nanoTime() - (select && first && n > 0 ? sent : t0)));
          first &= n == 0;
          if (n == 0) {
            selector.select();
            selector.selectedKeys().clear();
          }
        }
      }
    }
  }

  /** Adds each request's time from send to response, by the client's clock. */
  static void httpClient(int port, List<Long> requestNanos) throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI uri = URI.create("http://127.0.0.1:" + port + "/");
    for (int i = 0; i < EXCHANGES; i++) {
      long t0 = System.nanoTime();
      HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).build(),
          HttpResponse.BodyHandlers.ofString());
      requestNanos.add(System.nanoTime() - t0);
      assertEquals(LoopbackServer.MESSAGE, response.body().length());
    }
  }

  // -- helpers --------------------------------------------------------------------------------

  /** For a failure's message: the family's own counts of what it lost, and the series compared. */
  static String diagnosis(SocketSnapshot s, Predicate<SocketPeer> peer) {
    return "; dropped " + s.probes().stream().mapToLong(ProbeStats::dropped).sum() + ", errors "
        + s.probes().stream().mapToLong(ProbeStats::errors).sum() + ", overflow "
        + s.probes().stream().mapToLong(ProbeStats::overflow).sum() + " in every series; series "
        + matching(s, peer, "receive", null).toList() + matching(s, peer, "transmit", null).toList();
  }

  /**
   * What happened between two snapshots of the same probes: each series of {@code after} less
   * the same series in {@code before} (min and max are {@code after}'s: not comparable).
   */
  static SocketSnapshot since(SocketSnapshot before, SocketSnapshot after) {
    List<SocketSnapshot.Io> io = new ArrayList<>();
    for (SocketSnapshot.Io now : after.io()) {
      SocketSnapshot.Io then = before.io().stream().filter(b -> b.peer().equals(now.peer())
          && b.direction().equals(now.direction()) && java.util.Objects.equals(b.error(), now.error()))
          .findFirst().orElse(null);
      io.add(then == null ? now : new SocketSnapshot.Io(now.peer(), now.direction(), now.error(),
          minus(now.durations(), then.durations()), minus(now.sizes(), then.sizes())));
    }
    List<SocketSnapshot.Connect> connects = new ArrayList<>();
    for (SocketSnapshot.Connect now : after.connects()) {
      SocketSnapshot.Connect then = before.connects().stream().filter(b -> b.peer().equals(now.peer())
          && java.util.Objects.equals(b.error(), now.error())).findFirst().orElse(null);
      connects.add(then == null ? now
          : new SocketSnapshot.Connect(now.peer(), now.error(), minus(now.durations(), then.durations())));
    }
    return new SocketSnapshot(io, connects, after.probes());
  }

  private static HistogramSnapshot minus(HistogramSnapshot now, HistogramSnapshot then) {
    long[] counts = now.bucketCounts();
    for (int k = 0; k < counts.length; k++) {
      counts[k] -= then.bucketCount(k);
    }
    return new HistogramSnapshot(now.layout(), now.zeroCount() - then.zeroCount(), counts, now.sum() - then.sum(),
        now.min(), now.max());
  }

  /**
   * The kernel's durations against the client's own clock around the same calls: a call lasts
   * at most what the client measured and at least that minus its own overhead (the JDK's code
   * around the libc call, a safepoint or collection meanwhile): slack of 5 ms or 20% (seen: a
   * 1.5 ms pause around a 17 us read on a loaded machine). At every bucket boundary
   * the kernel's cumulative count must lie between the clients' counts with and without slack.
   */
  static void assertBucketsAgree(HistogramSnapshot kernel, List<Long> clientNanos, Object what) {
    assertEquals(clientNanos.size(), kernel.count(), what + ": calls");
    assertCumulativeWithin(kernel, upper -> clientNanos.stream().filter(d -> d <= upper).count(),
        upper -> clientNanos.stream().filter(d -> d - Math.max(SLACK_NANOS, d / 5) <= upper).count(),
        what + ": calls", "client " + clientNanos);
  }

  /**
   * At every bucket boundary u (in ns) of the kernel's histogram, its cumulative count must lie
   * between lowest(u) and highest(u).
   */
  private static void assertCumulativeWithin(HistogramSnapshot kernel, LongUnaryOperator lowest,
      LongUnaryOperator highest, String what, String detail) {
    long cumulative = kernel.zeroCount();
    for (int k = 0; k < NANOS.bucketCount(); k++) {
      cumulative += kernel.bucketCount(k);
      long upper = NANOS.upper(k) < 0 ? Long.MAX_VALUE : NANOS.upper(k); // the last is UINT64_MAX
      long low = lowest.applyAsLong(upper);
      long high = highest.applyAsLong(upper);
      if (cumulative < low || cumulative > high) {
        throw new AssertionError(what + ": " + cumulative + " up to " + upper + " ns in the kernel, expected between "
            + low + " and " + high + "; kernel " + kernel + ", " + detail);
      }
    }
  }

  /**
   * Receives of a client that waits in a selector (HttpClient): each request's reply wait lies
   * between the delay the server injected before answering it and the client's own time for the
   * whole request; the receives beyond one per request (a reply read in parts) may be anything.
   * At every bucket boundary the kernel's cumulative count must lie between the requests surely
   * below it (client time at most the boundary) and those possibly below it (delay at most the
   * boundary) plus the extra receives. A receive timed without its wait (a copy, microseconds)
   * puts the 5 and 50 ms replies too low, and fails it.
   */
  static void assertWaitsAgree(HistogramSnapshot kernel, List<Long> clientNanos, Object what) {
    List<Long> delays = LoopbackServer.delaysNanos(clientNanos.size());
    long extra = kernel.count() - clientNanos.size();
    assertTrue(extra >= 0, what + ": " + kernel.count() + " receives for " + clientNanos.size() + " requests");
    assertCumulativeWithin(kernel, upper -> clientNanos.stream().filter(d -> d <= upper).count(),
        upper -> delays.stream().filter(d -> d <= upper).count() + extra, what + ": receives",
        "client " + clientNanos + ", delays " + delays);
  }

  static java.util.stream.Stream<SocketSnapshot.Io> matching(SocketSnapshot s, Predicate<SocketPeer> peer,
      String direction, String error) {
    return s.io().stream().filter(io -> peer.test(io.peer()) && io.direction().equals(direction)
        && java.util.Objects.equals(io.error(), error));
  }

  static SocketSnapshot.Io series(SocketSnapshot s, Predicate<SocketPeer> peer, String direction, String error) {
    return matching(s, peer, direction, error).findFirst()
        .orElseThrow(() -> new AssertionError("no " + direction + " series with error " + error + " in " + s.io()));
  }

  static long sum(SocketSnapshot s, Predicate<SocketPeer> peer, String direction, String error,
      java.util.function.ToLongFunction<HistogramSnapshot> of, boolean sizes) {
    return matching(s, peer, direction, error).mapToLong(io -> of.applyAsLong(sizes ? io.sizes() : io.durations()))
        .sum();
  }

  /**
   * A snapshot once the socket series have stood still for 200 ms (at most 5 s): the servers of
   * earlier tests may still be reading their clients' end of stream.
   */
  static SocketSnapshot quietSnapshot() throws Exception {
    SocketSnapshot last = probes.snapshot();
    for (int i = 0; i < 25; i++) {
      Thread.sleep(200);
      SocketSnapshot now = probes.snapshot();
      if (totals(now).equals(totals(last))) {
        return now;
      }
      last = now;
    }
    return last;
  }

  static long events(SocketSnapshot s, String program) {
    return s.probes().stream().filter(p -> p.probe().equals(program)).mapToLong(ProbeStats::events).sum();
  }

  /** Count and bytes of every I/O series, in a comparable form. */
  static java.util.Map<String, Long> totals(SocketSnapshot s) {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    for (SocketSnapshot.Io io : s.io()) {
      String key = io.peer() + " " + io.direction() + " " + io.error();
      out.merge(key + " count", io.durations().count(), Long::sum);
      out.merge(key + " bytes", io.sizes().sum(), Long::sum);
    }
    return out;
  }
}
