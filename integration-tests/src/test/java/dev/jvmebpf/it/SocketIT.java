package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.socket.LoopbackServer;
import dev.jvmebpf.it.workload.DatagramWorkload;
import dev.jvmebpf.it.workload.NetworkWorkload;
import dev.jvmebpf.it.workload.PingPongWorkload;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.DoubleToLongFunction;
import java.util.function.Predicate;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Socket and DNS metrics end to end, on JDK 17 and 25: a JVM with the agent runs four kinds of
 * client against this test's loopback servers (not observed: another process), which answer after
 * 0, 5 and 50 ms. Oracles: the servers' own byte counts, the workload's own count of its calls and
 * its own clock around each read, the JDK's answers to connects and lookups.
 */
class SocketIT extends ReceiverTest {

  static final int EXCHANGES = 12;
  static final int LOOKUPS = 3;
  /** The most a call's kernel duration may fall short of the client's clock (or 20% of it, if more). */
  static final long SLACK_NANOS = 5_000_000;

  /**
   * The clients' calls as they counted and timed them, with the socket family timing receives and
   * transmits in libc (uprobes) or in the JDK's own sockets ({@code socket.timing=jdk}): the
   * same series, the same counts, the same buckets; on the host and in a pid namespace of its
   * own (as in a container).
   */
  @ParameterizedTest(name = "JDK {0}, socket.timing={1}, {2}")
  @CsvSource({"17, libc, host", "25, libc, host", "17, jdk, host", "25, jdk, host", "17, libc, pidns",
      "25, jdk, pidns", "25, jdk, busy"})
  void clientsConnectsAndLookupsAsTheJvmSawThem(int jdk, String timing, String where) throws Exception {
    String tag = UUID.randomUUID().toString().substring(0, 8);
    List<String> names = List.of("localhost", "jeb-" + tag + "-a.invalid", "jeb-" + tag + "-b.invalid");
    try (LoopbackServer socket = new LoopbackServer(LoopbackServer.Protocol.FIXED);
         LoopbackServer channel = new LoopbackServer(LoopbackServer.Protocol.FIXED);
         LoopbackServer selector = new LoopbackServer(LoopbackServer.Protocol.FIXED);
         LoopbackServer http = new LoopbackServer(LoopbackServer.Protocol.HTTP)) {
      int closed = closedPort();
      receiver.clear();
      List<String> args = new ArrayList<>(List.of(Integer.toString(EXCHANGES), Integer.toString(socket.port()),
          Integer.toString(channel.port()), Integer.toString(selector.port()), Integer.toString(http.port()),
          Integer.toString(closed), Integer.toString(LOOKUPS)));
      args.addAll(names);
      TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(jdk)).in(where)
          .withAgent(receiver.agentArguments("grpc") + ",socket.timing=" + timing)
          .run(Duration.ofSeconds(120), NetworkWorkload.class, args.toArray(String[]::new));
      assertEquals(0, run.exitCode(), run.stderr());
      assertTrue(run.value("AGENT").contains("socket") && run.value("AGENT").contains("dns"), run.stdout());
      boolean inJdk = timing.equals("jdk");
      assertTrue(!run.stderr().contains("socket.timing=jdk unavailable"), run.stderr());
      for (LoopbackServer server : List.of(socket, channel, selector, http)) {
        server.awaitQuiet();
      }
      Map<String, String> calls = run.table("CALLS");
      Map<String, String> readNanos = run.table("READ_NANOS");
      List<ExponentialHistogramDataPoint> io = points("jvm.socket.io.duration");
      List<ExponentialHistogramDataPoint> sizes = points("jvm.socket.io.size");

      Map<String, LoopbackServer> clients = Map.of("socket", socket, "channel", channel, "selector", selector,
          "http", http);
      for (Map.Entry<String, LoopbackServer> client : clients.entrySet()) {
        String kind = client.getKey();
        LoopbackServer server = client.getValue();
        Predicate<Map<String, String>> toServer = a -> "127.0.0.1".equals(a.get("network.peer.address"))
            && Integer.toString(server.port()).equals(a.get("network.peer.port"))
            && "tcp".equals(a.get("network.transport"));
        // Bytes both ways: exactly what the server counted.
        assertEquals(server.bytesWritten.get(), sumOf(sizes, toServer, "receive", null, true), jdk + " " + kind
            + ": bytes received");
        assertEquals(server.bytesRead.get(), sumOf(sizes, toServer, "transmit", null, true), jdk + " " + kind
            + ": bytes sent");
        assertEquals(EXCHANGES, server.requests.get(), kind + ": requests answered");
        long[] counted = Arrays.stream(calls.get(kind).split(" ")).mapToLong(Long::parseLong).toArray();
        long receives = sumOf(io, toServer, "receive", null, false);
        List<Long> clientNanos = Arrays.stream(readNanos.get(kind).split(",")).map(Long::parseLong).toList();
        ExponentialHistogramDataPoint received = io.stream().filter(p -> matches(p, toServer, "receive", null))
            .findFirst().orElseThrow();
        if (kind.equals("http")) {
          assertTrue(receives >= EXCHANGES, jdk + " http receives: " + receives);
          assertWaitsAgree(received, clientNanos, "JDK " + jdk + " http");
          System.out.printf("JDK %d %s %s %-8s %d requests: %d receives (reply waits %.1f ms in all, between the server's"
              + " delays and the client's clock), %d that would block; bytes as the server counted%n", jdk, timing, where, kind,
              EXCHANGES, receives, received.getSum() * 1e3, sumOf(io, toServer, "receive", "EAGAIN", false));
          continue;
        }
        assertEquals(counted[0], receives, jdk + " " + kind + ": reads that returned data");
        assertEquals(counted[1], sumOf(io, toServer, "receive", "EAGAIN", false), jdk + " " + kind
            + ": reads that found nothing");
        assertEquals(counted[2], sumOf(io, toServer, "transmit", null, false), jdk + " " + kind + ": writes");
        assertBucketsAgree(received, clientNanos, "JDK " + jdk + " " + kind);
        System.out.printf("JDK %d %s %s %-8s %d receives in the buckets of the client's clock (%.1f ms in all), %d writes%n",
            jdk, timing, where, kind, receives, received.getSum() * 1e3, counted[2]);
      }

      // Connects: the refused ones with their error; the clients' own, once each.
      List<ExponentialHistogramDataPoint> connects = points("jvm.socket.connect.duration");
      assertEquals(Long.parseLong(run.value("REFUSED")), connects.stream()
          .filter(p -> attributes(p).get("network.peer.port").equals(Integer.toString(closed))
              && "ECONNREFUSED".equals(attributes(p).get("error.type")))
          .mapToLong(ExponentialHistogramDataPoint::getCount).sum(), "refused connects");
      // Each refused connect is also a span with status ERROR; the successful ones are fast: none.
      List<Span> connectSpans = receiver.spans().stream()
          .filter(sp -> sp.getName().equals("socket connect")).toList();
      assertEquals(Long.parseLong(run.value("REFUSED")), connectSpans.stream()
          .filter(sp -> Integer.toString(closed).equals(Otlp.attributes(sp.getAttributesList()).get("network.peer.port"))
              && "ECONNREFUSED".equals(Otlp.attributes(sp.getAttributesList()).get("error.type"))
              && sp.getStatus().getCode() == Status.StatusCode.STATUS_CODE_ERROR)
          .count(), "refused connects' spans: " + connectSpans);
      assertTrue(connectSpans.stream().allMatch(sp -> Otlp.attributes(sp.getAttributesList()).containsKey("error.type")
          || sp.getEndTimeUnixNano() - sp.getStartTimeUnixNano() >= 100_000_000L),
          "a successful connect under 100 ms made a span: " + connectSpans);
      for (LoopbackServer server : clients.values()) {
        assertEquals(1, connects.stream().filter(p -> Integer.toString(server.port())
            .equals(attributes(p).get("network.peer.port")) && !attributes(p).containsKey("error.type"))
            .mapToLong(ExponentialHistogramDataPoint::getCount).sum(), "connects to " + server.port());
      }

      // Lookups: the JDK's cache answers repeats (30 s found, 10 s not found): one call each.
      assertLookups(run, names, 1);

      // 64 MiB through a file: in libc every read and write of it hit the probes, none counted as
      // socket I/O; timed in the JDK, no read or write of the process traps at all.
      long fileCalls = Long.parseLong(run.value("FILE_BYTES")) / 4096;
      if (inJdk) {
        assertEquals(0, probeEvents("uprobe_read") + probeEvents("uprobe_write"), "no read or write trapped");
      } else {
        assertTrue(probeEvents("uprobe_read") + probeEvents("uprobe_write") >= fileCalls,
            "the probes saw the file's calls: " + probeEvents("uprobe_read") + " reads, "
            + probeEvents("uprobe_write") + " writes");
      }
      List<Integer> known = List.of(socket.port(), channel.port(), selector.port(), http.port(), closed,
          receiver.grpcPort());
      for (ExponentialHistogramDataPoint p : io) {
        Map<String, String> a = attributes(p);
        boolean knownPeer = a.containsKey("network.peer.port")
            && known.contains(Integer.parseInt(a.get("network.peer.port")));
        boolean inbound = "tcp".equals(a.get("network.transport")) && !a.containsKey("network.peer.port");
        assertTrue(knownPeer || inbound || "unix".equals(a.get("network.transport")),
            "a series with a peer this JVM never talked to: " + a);
      }
    }
  }

  /**
   * UDP, which the JDK sends and receives with libc's sendto/recvfrom and send/recv: counted by the
   * libc probes on both timings (socket.timing=jdk leaves only read, readv, write and writev to
   * the JDK's TCP sockets), exactly, and never twice. Oracles: the echo servers' own counts of
   * datagrams and bytes, and the client's count of what it sent and received. On the host and in
   * a pid namespace of its own.
   */
  @ParameterizedTest(name = "JDK {0}, socket.timing={1}, {2}")
  @CsvSource({"17, libc, host", "25, libc, host", "17, jdk, host", "25, jdk, host", "25, libc, pidns", "17, jdk, busy"})
  void datagramsAsTheEchoServersCountedThem(int jdk, String timing, String where) throws Exception {
    try (UdpEcho socket = new UdpEcho(); UdpEcho channel = new UdpEcho()) {
      receiver.clear();
      TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(jdk)).in(where)
          .withAgent(receiver.agentArguments("grpc") + ",socket.timing=" + timing)
          .run(Duration.ofSeconds(120), DatagramWorkload.class, Integer.toString(EXCHANGES),
              Integer.toString(socket.port()), Integer.toString(channel.port()));
      assertEquals(0, run.exitCode(), run.stderr());
      assertTrue(run.value("AGENT").startsWith("on: ") && run.value("AGENT").contains("socket"), run.stdout());
      Map<String, String> udp = run.table("UDP");
      List<ExponentialHistogramDataPoint> io = points("jvm.socket.io.duration");
      List<ExponentialHistogramDataPoint> sizes = points("jvm.socket.io.size");
      for (Map.Entry<String, UdpEcho> client : Map.of("socket", socket, "channel", channel).entrySet()) {
        UdpEcho server = client.getValue();
        long[] counted = Arrays.stream(udp.get(client.getKey()).split(" ")).mapToLong(Long::parseLong).toArray();
        Predicate<Map<String, String>> toServer = a -> "127.0.0.1".equals(a.get("network.peer.address"))
            && Integer.toString(server.port()).equals(a.get("network.peer.port"))
            && "udp".equals(a.get("network.transport"));
        String what = "JDK " + jdk + " " + timing + " " + where + " " + client.getKey();
        assertEquals(EXCHANGES, server.datagrams.get(), what + ": datagrams the server got");
        assertEquals(counted[0], sumOf(io, toServer, "transmit", null, false), what + ": datagrams sent");
        assertEquals(server.bytes.get(), sumOf(sizes, toServer, "transmit", null, true), what + ": bytes sent");
        assertEquals(counted[1], sumOf(io, toServer, "receive", null, false), what + ": datagrams received");
        assertEquals(counted[3], sumOf(sizes, toServer, "receive", null, true), what + ": bytes received");
        System.out.printf("%s: %d datagrams each way, %d bytes sent, as the echo server counted%n", what,
            counted[0], server.bytes.get());
      }
    }
  }

  /** A UDP echo server on loopback: each datagram back to its sender, counted. */
  static final class UdpEcho implements AutoCloseable {
    final java.util.concurrent.atomic.AtomicLong datagrams = new java.util.concurrent.atomic.AtomicLong();
    final java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
    private final java.net.DatagramSocket socket;
    private final Thread thread;

    UdpEcho() throws java.io.IOException {
      socket = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress());
      thread = new Thread(this::serve, "udp-echo-" + socket.getLocalPort());
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    private void serve() {
      byte[] buffer = new byte[2048];
      try {
        while (true) {
          java.net.DatagramPacket in = new java.net.DatagramPacket(buffer, buffer.length);
          socket.receive(in);
          datagrams.incrementAndGet();
          bytes.addAndGet(in.getLength());
          socket.send(new java.net.DatagramPacket(buffer, in.getLength(), in.getSocketAddress()));
        }
      } catch (java.io.IOException closed) {
        // close() ends it
      }
    }

    @Override
    public void close() throws InterruptedException {
      socket.close();
      thread.join(5000);
    }
  }

  /** With the JDK's cache off (java.security.properties), every lookup reaches getaddrinfo. */
  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void everyLookupTheCacheDoesNotAnswerIsCounted(int jdk) throws Exception {
    String tag = UUID.randomUUID().toString().substring(0, 8);
    List<String> names = List.of("localhost", "jeb-" + tag + "-c.invalid");
    Path security = Files.createTempFile("jeb-no-dns-cache", ".properties");
    try (LoopbackServer server = new LoopbackServer(LoopbackServer.Protocol.FIXED);
         LoopbackServer http = new LoopbackServer(LoopbackServer.Protocol.HTTP)) {
      Files.writeString(security, "networkaddress.cache.ttl=0\nnetworkaddress.cache.negative.ttl=0\n");
      receiver.clear();
      List<String> args = new ArrayList<>(List.of("1", Integer.toString(server.port()), Integer.toString(server.port()),
          Integer.toString(server.port()), Integer.toString(http.port()), Integer.toString(closedPort()),
          Integer.toString(LOOKUPS)));
      args.addAll(names);
      TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(jdk)).withAgent(receiver.agentArguments("grpc"))
          .jvmArgs("-Djava.security.properties=" + security)
          .run(Duration.ofSeconds(120), NetworkWorkload.class, args.toArray(String[]::new));
      assertEquals(0, run.exitCode(), run.stderr());
      assertLookups(run, names, LOOKUPS);
      assertLookupSpans(names);
    } finally {
      Files.deleteIfExists(security);
    }
  }

  /**
   * Only our own process: another JVM doing the same loopback ping-pong at the same time, through
   * the same libc, is not counted, and the kernel never even mapped its uprobe area there (it
   * does in ours, where the return probes fire). What it costs the other process in time is
   * measured by the benchmark ({@code make bench BENCH=socket}), not asserted here.
   */
  @org.junit.jupiter.api.Test
  void anotherProcessIsNeitherCountedNorTrapped() throws Exception {
    receiver.clear();
    TargetJvm.Running other = TargetJvm.on(Fixtures.jdk17()).start(PingPongWorkload.class, "4000");
    TargetJvm.Running ours = TargetJvm.on(Fixtures.jdk17()).withAgent(receiver.agentArguments("grpc"))
        .start(PingPongWorkload.class, "2000");
    try {
      TargetJvm.Result our = ours.await(Duration.ofSeconds(60));
      TargetJvm.Result their = other.await(Duration.ofSeconds(60));
      assertEquals(0, our.exitCode(), our.stderr());
      assertEquals(0, their.exitCode(), their.stderr());
      assertTrue(our.value("AGENT").contains("socket"), our.stdout());
      assertEquals("true", our.value("UPROBES_MAPPED"), "our JVM, where the probes fire");
      assertEquals("false", their.value("UPROBES_MAPPED"), "the other JVM");
      String ourPort = our.value("PORT");
      String theirPort = their.value("PORT");
      List<ExponentialHistogramDataPoint> io = points("jvm.socket.io.duration");
      long ourRoundTrips = Long.parseLong(our.value("ROUND_TRIPS").split(" ")[0]);
      long ourReceives = io.stream().filter(p -> ourPort.equals(attributes(p).get("network.peer.port"))
          && "receive".equals(attributes(p).get("network.io.direction")) && !attributes(p).containsKey("error.type"))
          .mapToLong(ExponentialHistogramDataPoint::getCount).sum();
      assertTrue(ourReceives >= ourRoundTrips, "our client's receives: " + ourReceives + " for " + ourRoundTrips
          + " round trips");
      assertTrue(io.stream().noneMatch(p -> theirPort.equals(attributes(p).get("network.peer.port"))),
          "the other JVM's traffic (port " + theirPort + ") in our export");
      System.out.printf("another JVM: %s round trips meanwhile, not counted, no uprobe area; ours: %d round trips, "
          + "%d receives counted%n", their.value("ROUND_TRIPS").split(" ")[0], ourRoundTrips, ourReceives);
    } finally {
      ours.kill();
      other.kill();
    }
  }

  /** Each name's lookups: {@code expected} getaddrinfo calls, failing exactly when the JDK's did. */
  /**
   * Spans: one per failed lookup (the .invalid names), with status ERROR and the EAI_* code; a
   * successful lookup only when it took at least the default threshold, 50 ms.
   */
  private static void assertLookupSpans(List<String> names) {
    List<Span> spans = receiver.spans().stream()
        .filter(s -> s.getName().equals("DNS lookup")).toList();
    for (String name : names) {
      List<Span> of = spans.stream()
          .filter(s -> name.equals(Otlp.attributes(s.getAttributesList()).get("dns.question.name"))).toList();
      if (name.endsWith(".invalid")) {
        assertEquals(LOOKUPS, of.size(), name + ": one span per failed lookup");
        for (Span span : of) {
          assertEquals(Status.StatusCode.STATUS_CODE_ERROR, span.getStatus().getCode());
          assertTrue(Otlp.attributes(span.getAttributesList()).get("error.type").startsWith("EAI_"), span.toString());
          assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, span.getKind());
        }
      } else {
        for (Span span : of) {
          assertTrue(span.getEndTimeUnixNano() - span.getStartTimeUnixNano() >= 50_000_000L,
              name + ": a successful lookup under 50 ms made a span: " + span);
        }
      }
    }
  }

  private static void assertLookups(TargetJvm.Result run, List<String> names, int expected) {
    List<ExponentialHistogramDataPoint> lookups = points("dns.lookup.duration");
    Map<String, String> byName = run.table("LOOKUP");
    for (String name : names) {
      long failures = Long.parseLong(byName.get(name).split(" ")[1]);
      List<ExponentialHistogramDataPoint> of = lookups.stream()
          .filter(p -> name.equals(attributes(p).get("dns.question.name"))).toList();
      long calls = of.stream().mapToLong(ExponentialHistogramDataPoint::getCount).sum();
      long failed = of.stream().filter(p -> attributes(p).containsKey("error.type"))
          .mapToLong(ExponentialHistogramDataPoint::getCount).sum();
      assertEquals(expected, calls, name + ": getaddrinfo calls");
      assertEquals(failures > 0 ? expected : 0, failed, name + ": failed calls " + of);
      of.stream().filter(p -> attributes(p).containsKey("error.type")).forEach(p ->
          assertTrue(attributes(p).get("error.type").startsWith("EAI_"), "error.type of " + name + ": " + p));
    }
  }

  /**
   * The exported buckets against the client's own clock: a call lasts at most what the client
   * measured and at least that minus the JVM's own work around the libc call, a safepoint or
   * a collection meanwhile included (5 ms or 20%: seen, 1.5 ms on a loaded machine).
   */
  static void assertBucketsAgree(ExponentialHistogramDataPoint p, List<Long> clientNanos, String what) {
    assertEquals(clientNanos.size(), p.getCount(), what + ": calls");
    assertCumulativeWithin(p, upper -> clientNanos.stream().filter(d -> d <= upper).count(),
        upper -> clientNanos.stream().filter(d -> d - Math.max(SLACK_NANOS, d / 5) <= upper).count(),
        what + ": calls", "client " + clientNanos);
  }

  /**
   * At every bucket boundary u (in ns) of the exported point, its cumulative count must lie
   * between lowest(u) and highest(u). Bucket i of scale s holds (2^(i/2^s), 2^((i+1)/2^s)]
   * seconds, computed here independently.
   */
  private static void assertCumulativeWithin(ExponentialHistogramDataPoint p, DoubleToLongFunction lowest,
      DoubleToLongFunction highest, String what, String detail) {
    double base = Math.pow(2, Math.pow(2, -p.getScale()));
    long cumulative = p.getZeroCount();
    List<Long> counts = p.getPositive().getBucketCountsList();
    for (int k = 0; k < counts.size(); k++) {
      cumulative += counts.get(k);
      double upperNanos = Math.pow(base, p.getPositive().getOffset() + k + 1) * 1e9;
      long low = lowest.applyAsLong(upperNanos);
      long high = highest.applyAsLong(upperNanos);
      assertTrue(cumulative >= low && cumulative <= high, what + ": " + cumulative + " up to " + upperNanos
          + " ns exported, expected between " + low + " and " + high + "; " + counts + " from offset "
          + p.getPositive().getOffset() + ", " + detail);
    }
  }

  /**
   * Receives of HttpClient, which waits in its selector: each request's reply wait lies between
   * the delay the server injected before answering it and the client's time for the request;
   * receives beyond one per request may be anything. At every bucket boundary the exported
   * cumulative count lies between the requests surely below it and those possibly below it.
   */
  static void assertWaitsAgree(ExponentialHistogramDataPoint p, List<Long> clientNanos, String what) {
    long extra = p.getCount() - clientNanos.size();
    assertTrue(extra >= 0, what + ": " + p.getCount() + " receives for " + clientNanos.size() + " requests");
    List<Long> delays = LoopbackServer.delaysNanos(clientNanos.size());
    assertCumulativeWithin(p, upper -> clientNanos.stream().filter(d -> d <= upper).count(),
        upper -> delays.stream().filter(d -> d <= upper).count() + extra, what + ": receives",
        "client " + clientNanos + ", delays " + delays);
  }

  private static long sumOf(List<ExponentialHistogramDataPoint> points, Predicate<Map<String, String>> peer,
      String direction, String error, boolean sum) {
    return points.stream().filter(p -> matches(p, peer, direction, error))
        .mapToLong(p -> sum ? Math.round(p.getSum()) : p.getCount()).sum();
  }

  private static boolean matches(ExponentialHistogramDataPoint p, Predicate<Map<String, String>> peer,
      String direction, String error) {
    Map<String, String> a = attributes(p);
    return peer.test(a) && direction.equals(a.get("network.io.direction"))
        && java.util.Objects.equals(error, a.get("error.type"));
  }

  private static Map<String, String> attributes(ExponentialHistogramDataPoint p) {
    return Otlp.attributes(p.getAttributesList());
  }

  private static List<ExponentialHistogramDataPoint> points(String metric) {
    Metric m = receiver.latest(metric).orElseThrow(() -> new AssertionError("no " + metric + " exported"))
        .metric();
    return m.getExponentialHistogram().getDataPointsList();
  }

  private static long probeEvents(String probe) {
    return receiver.latest("jvm.ebpf.probe.events").orElseThrow().metric().getSum().getDataPointsList().stream()
        .filter(p -> probe.equals(Otlp.attributes(p.getAttributesList()).get("probe")))
        .mapToLong(NumberDataPoint::getAsInt).sum();
  }

  /** A loopback port nobody listens on (one that was free a moment ago). */
  static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
