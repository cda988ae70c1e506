package dev.jvmebpf.bpf.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.bpf.socket.SocketProbes;
import dev.jvmebpf.bpf.socket.SocketSnapshot;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Real BPF on this test JVM: lookups of names nobody looked up before (so the JDK's cache cannot
 * answer them) reach getaddrinfo once each; the oracle is the JDK's own answer and the test's
 * clock around each lookup. The resolver's own traffic stays out of the socket family.
 */
class DnsProbesTest {

  @Test
  void eachLookupIsTimedUnderItsNameWithItsResult() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    HistogramLayout nanos = HistogramLayout.nanosecondsAsSeconds(3);
    String tag = UUID.randomUUID().toString().substring(0, 8);
    List<String> invalid = List.of("a-" + tag + ".invalid", "b-" + tag + ".invalid");
    String longName = "c-" + tag + "-" + "x".repeat(70) + ".invalid";
    try (DnsProbes dns = DnsProbes.attach(libbpf, JvmProcess.current(), nanos, 64, false);
         SocketProbes sockets = SocketProbes.attach(libbpf, JvmProcess.current(), nanos,
             HistogramLayout.create(3, 1), 64, false)) {
      List<Long> clientNanos = new ArrayList<>();
      for (String name : invalid) {
        long t0 = System.nanoTime();
        assertThrows(UnknownHostException.class, () -> InetAddress.getAllByName(name));
        clientNanos.add(System.nanoTime() - t0);
      }
      assertThrows(UnknownHostException.class, () -> InetAddress.getAllByName(longName));

      DnsSnapshot snapshot = dns.snapshot();
      for (int i = 0; i < invalid.size(); i++) {
        String name = invalid.get(i);
        List<DnsSnapshot.Lookup> of = snapshot.lookups().stream().filter(l -> l.name().equals(name)).toList();
        assertEquals(1, of.size(), name + ": one series in " + snapshot.lookups());
        DnsSnapshot.Lookup lookup = of.get(0);
        assertEquals(1, lookup.durations().count(), name + ": lookups");
        assertNotNull(lookup.error(), name + " failed in the JDK, so it failed in getaddrinfo");
        assertTrue(lookup.error().startsWith("EAI_"), lookup.error());
        // At most what the caller measured around InetAddress (which adds its own work).
        assertTrue(lookup.durations().max() > 0 && lookup.durations().max() <= clientNanos.get(i),
            name + ": " + lookup.durations() + " against the caller's " + clientNanos.get(i) + " ns");
      }
      String cut = longName.substring(0, DnsStructs.NAME_MAX) + "…";
      assertEquals(1, snapshot.lookups().stream().filter(l -> l.name().equals(cut)).mapToLong(l -> l.durations().count())
          .sum(), "the long name, truncated: " + snapshot.lookups());
      // The resolver talked to the name server from inside getaddrinfo (the socket probes saw
      // its connects); that traffic is the lookup's, not the socket family's.
      SocketSnapshot s = sockets.snapshot();
      assertTrue(s.probes().stream().filter(p -> p.probe().equals("uprobe_connect")).mapToLong(ProbeStats::events).sum() > 0, "the resolver's connects: " + s.probes());
      assertTrue(s.io().stream().noneMatch(io -> io.peer().port() == 53)
          && s.connects().stream().noneMatch(c -> c.peer().port() == 53), "no name server traffic in " + s);
      System.out.println("lookups: " + snapshot.lookups());
    }
  }

  @Test
  void failedLookupsBecomeEventsAndFastSuccessfulOnesDoNot() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    HistogramLayout nanos = HistogramLayout.nanosecondsAsSeconds(3);
    String tag = UUID.randomUUID().toString().substring(0, 8);
    List<String> invalid = List.of("d-" + tag + ".invalid", "e-" + tag + ".invalid");
    try (SpanEvents events = SpanEvents.create(libbpf, SpanEvents.DEFAULT_BYTES);
         DnsProbes dns = DnsProbes.attach(libbpf, JvmProcess.current(), nanos, 64, false, events,
             3_600_000_000_000L)) {
      List<long[]> windows = new ArrayList<>();
      for (String name : invalid) {
        long t0 = System.nanoTime();
        assertThrows(UnknownHostException.class, () -> InetAddress.getAllByName(name));
        windows.add(new long[] {t0, System.nanoTime()});
      }
      // Successful and far below the threshold: counted (when the JDK's cache does not answer), not sent.
      InetAddress.getAllByName("localhost");
      List<DnsEvent> seen = new ArrayList<>();
      events.read(e -> seen.add((DnsEvent) e));

      assertEquals(invalid, seen.stream().map(DnsEvent::name).toList(), "one event per failed lookup: " + seen);
      for (int i = 0; i < invalid.size(); i++) {
        DnsEvent e = seen.get(i);
        assertTrue(e.errorType() != null && e.errorType().startsWith("EAI_"), e.toString());
        assertTrue(e.startNanos() >= windows.get(i)[0] && e.endNanos() <= windows.get(i)[1],
            e + " within the caller's clock " + windows.get(i)[0] + ".." + windows.get(i)[1]);
      }
      DnsSnapshot snapshot = dns.snapshot();
      long failed = snapshot.lookups().stream().filter(l -> l.error() != null).mapToLong(l -> l.durations().count())
          .sum();
      assertEquals(invalid.size(), failed, "every failed lookup counted: " + snapshot.lookups());
      assertEquals(invalid.size(), snapshot.probes().stream().mapToLong(ProbeStats::spans).sum(),
          "only the failed lookups were sent: " + snapshot.lookups());
      assertEquals(0, events.undecodable());
    }
  }
}
