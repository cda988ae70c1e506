package dev.jvmebpf.bpf.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Real BPF: only socket calls over the threshold reach the span ring buffer, with the peer and
 * the duration the client's own clock saw; failed connects always do.
 */
class SocketSpansTest {

  /** Between the server's delays of 5 ms and 50 ms (LoopbackServer.DELAYS_MILLIS). */
  static final long THRESHOLD_NANOS = 25_000_000;

  @Test
  void slowReceivesBecomeEventsWithThePeerAndTheClientsDuration() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    try (SpanEvents events = SpanEvents.create(libbpf, SpanEvents.DEFAULT_BYTES);
         SocketProbes probes = SocketProbes.attach(libbpf, JvmProcess.current(), SocketProbesTest.NANOS,
             SocketProbesTest.BYTES, 64, false, events, THRESHOLD_NANOS, THRESHOLD_NANOS);
         LoopbackServer server = new LoopbackServer(LoopbackServer.Protocol.FIXED)) {
      List<SocketProbesTest.Call> reads = new ArrayList<>();
      List<SocketProbesTest.Call> writes = new ArrayList<>();
      SocketProbesTest.socketClient(server.port(), reads, writes);
      List<SocketEvent> seen = new ArrayList<>();
      events.read(e -> seen.add((SocketEvent) e));

      List<SocketEvent> receives = seen.stream()
          .filter(e -> !e.connect() && e.peer().port() == server.port()).toList();
      // A read the client timed well over the threshold is an event; one well under it is not.
      List<SocketProbesTest.Call> slow = reads.stream()
          .filter(r -> r.nanos() >= THRESHOLD_NANOS + SocketProbesTest.SLACK_NANOS).toList();
      long fast = reads.stream().filter(r -> r.nanos() < THRESHOLD_NANOS).count();
      assertTrue(slow.size() >= SocketProbesTest.EXCHANGES / 3 - 1, "the 50 ms replies: " + reads);
      assertTrue(receives.size() >= slow.size() && receives.size() <= reads.size() - fast,
          receives.size() + " receive events for " + slow.size() + " slow reads of " + reads);
      for (SocketEvent e : receives) {
        assertEquals("receive", e.direction());
        assertEquals("127.0.0.1", e.peer().address());
        assertEquals("tcp", e.peer().transport());
        assertNull(e.errorType());
        assertNull(e.parent(), "no thread context writer in this process");
        assertTrue(e.bytes() > 0 && e.bytes() <= LoopbackServer.MESSAGE, e.toString());
        long nanos = e.endNanos() - e.startNanos();
        assertTrue(nanos >= THRESHOLD_NANOS, "over the threshold: " + e);
        // Within 5 ms of one of the client's own readings (the JDK's work around read() included).
        assertTrue(reads.stream().anyMatch(r -> r.nanos() >= nanos && r.nanos() - nanos <= SocketProbesTest.SLACK_NANOS),
            e + " is none of the client's reads " + reads);
      }
      assertTrue(seen.stream().noneMatch(e -> "transmit".equals(e.direction())), "writes are fast: " + seen);
      long sent = probes.snapshot().probes().stream().mapToLong(ProbeStats::spans).sum();
      assertEquals(seen.size(), sent);
      assertEquals(0, events.undecodable());
    }
  }

  @Test
  void everyRefusedConnectIsAnEvent() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    int port;
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = closed.getLocalPort();
    }
    try (SpanEvents events = SpanEvents.create(libbpf, SpanEvents.DEFAULT_BYTES);
         SocketProbes probes = SocketProbes.attach(libbpf, JvmProcess.current(), SocketProbesTest.NANOS,
             SocketProbesTest.BYTES, 64, false, events, 3_600_000_000_000L, 3_600_000_000_000L)) {
      int refused = 0;
      for (int i = 0; i < 3; i++) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
          throw new AssertionError("port " + port + " is open");
        } catch (ConnectException expected) {
          refused++;
        }
      }
      List<SocketEvent> seen = new ArrayList<>();
      events.read(e -> seen.add((SocketEvent) e));
      final int closedPort = port;
      List<SocketEvent> connects = seen.stream().filter(e -> e.connect() && e.peer().port() == closedPort).toList();
      assertEquals(refused, connects.size(), "one event per refused connect: " + seen);
      connects.forEach(e -> assertEquals("ECONNREFUSED", e.errorType(), e.toString()));
    }
  }
}
