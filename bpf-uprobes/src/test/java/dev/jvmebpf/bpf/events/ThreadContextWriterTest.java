package dev.jvmebpf.bpf.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.bpf.socket.LoopbackServer;
import dev.jvmebpf.bpf.socket.SocketEvent;
import dev.jvmebpf.bpf.socket.SocketProbes;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Real BPF: our writer's record, read back by the socket probes. A slow reply read while the
 * thread published a span is an event with that span as parent; the same read after clear() or
 * after the writer's close() has none, and so has a thread that never published.
 */
class ThreadContextWriterTest {

  static final long THRESHOLD_NANOS = 25_000_000; // between LoopbackServer's 5 ms and 50 ms
  static final String TRACE = "0af7651916cd43dd8448eb211c80319c";
  static final String SPAN = "b7ad6b7169203331";

  @Test
  void slowCallsInsideAPublishedSpanHaveItAsParent() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    ThreadContextWriter writer = new ThreadContextWriter(libbpf);
    try (SpanEvents events = SpanEvents.create(libbpf, SpanEvents.DEFAULT_BYTES);
         SocketProbes probes = SocketProbes.attach(libbpf, JvmProcess.current(), HistogramLayout.nanosecondsAsSeconds(3),
             HistogramLayout.create(3, 1), 64, false, events, THRESHOLD_NANOS, THRESHOLD_NANOS);
         LoopbackServer server = new LoopbackServer(LoopbackServer.Protocol.FIXED)) {
      // Ours, whatever else this test JVM loaded (ThreadContextLocatorTest's library exports it too).
      ThreadContextLocator.Location ours = ThreadContextLocator.of(libbpf).findNew().stream()
          .filter(l -> l.library().equals(libbpf.threadContextLibrary())).findFirst().orElseThrow();
      events.use(ours, false);

      // Requests 0..8 are answered after 0, 5, 50, 0, 5, 50, ... ms: the 3rd inside a span, the
      // 6th not, the 9th inside one published before the writer was closed.
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
        for (int i = 0; i < 9; i++) {
          if (i == 2 || i == 8) {
            writer.publish(TRACE, SPAN, 1);
            assertNotEquals(0, libbpf.boundThreadContext(), "the pointer is bound to the record");
          }
          if (i == 2) {
            // What Java reads back for this thread (the JDK socket timing point's parents) is
            // what the kernel reads from the record: checked against the event below.
            assertEquals(new SpanParent(TRACE, SPAN, 1), writer.current());
          }
          if (i == 8) {
            writer.close();
            assertNull(writer.current(), "closed: every record invalid");
          }
          exchange(s);
          if (i == 2) {
            writer.clear();
            assertNull(writer.current(), "cleared");
          }
        }
      }
      List<SocketEvent> seen = new ArrayList<>();
      events.read(e -> seen.add((SocketEvent) e));
      List<SocketEvent> receives = seen.stream().filter(e -> !e.connect() && e.peer().port() == server.port()).toList();
      assertEquals(3, receives.size(), "the three 50 ms replies: " + seen);
      assertEquals(new SpanParent(TRACE, SPAN, 1), receives.get(0).parent());
      assertNull(receives.get(1).parent(), "after clear()");
      assertNull(receives.get(2).parent(), "after close(): every record invalid");

      // Another thread that never published: its pointer is NULL.
      long[] other = {-1};
      SpanParent[] otherParent = {new SpanParent(TRACE, SPAN, 1)};
      Thread t = new Thread(() -> {
        other[0] = libbpf.boundThreadContext();
        otherParent[0] = writer.current();
      });
      t.start();
      t.join();
      assertEquals(0, other[0]);
      assertNull(otherParent[0], "a thread that never published has no context");
      assertTrue(seen.stream().allMatch(e -> e.parent() == null || e == receives.get(0)), seen.toString());
    }
  }

  private static void exchange(Socket s) throws Exception {
    InputStream in = s.getInputStream();
    OutputStream out = s.getOutputStream();
    byte[] message = new byte[LoopbackServer.MESSAGE];
    out.write(message);
    for (int got = 0; got < message.length; ) {
      got += in.read(message, got, message.length - got);
    }
  }
}
