package dev.jvmebpf.bpf.safepoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.junit.jupiter.api.Test;

/** Real BPF on this test JVM: safepoints we cause ourselves, counted and timed by the kernel. */
class SafepointProbesTest {

  @Test
  void eachThreadDumpIsOneThreadDumpSafepoint() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    int dumps = 25;
    try (SafepointProbes probes = SafepointProbes.attach(libbpf, JvmProcess.current(),
        HistogramLayout.nanosecondsAsSeconds(3), 64)) {
      assertEquals(java.util.List.of(), probes.limitations());
      long started = System.nanoTime();
      for (int i = 0; i < dumps; i++) {
        threads.dumpAllThreads(false, false);
      }
      long elapsed = System.nanoTime() - started;
      SafepointSnapshot snapshot = probes.snapshot();

      SafepointSnapshot.OperationDurations dump = snapshot.operations().stream()
          .filter(o -> o.operation().equals("ThreadDump")).findFirst()
          .orElseThrow(() -> new AssertionError("no ThreadDump safepoints in " + snapshot.operations()));
      assertEquals(dumps, dump.total().count(), "ThreadDump safepoints");
      assertEquals(dumps, dump.timeToSafepoint().count(), "ThreadDump times to safepoint");
      assertTrue(dump.total().sum() > 0 && dump.total().sum() <= elapsed,
          "safepoint time " + dump.total().sum() + " ns within the calls' " + elapsed + " ns");
      assertTrue(dump.timeToSafepoint().sum() <= dump.total().sum(), "reaching a safepoint is part of it");
      assertTrue(dump.total().min() > 0 && dump.total().max() >= dump.total().min());
    }
  }

  @Test
  void eachThreadDumpIsOneEventWithinTheCallersClock() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (SpanEvents events = SpanEvents.create(libbpf, SpanEvents.DEFAULT_BYTES);
        SafepointProbes probes = SafepointProbes.attach(libbpf, JvmProcess.current(),
            HistogramLayout.nanosecondsAsSeconds(3), 64, events, 0)) {
      java.util.List<long[]> windows = new java.util.ArrayList<>();
      for (int i = 0; i < 10; i++) {
        long t0 = System.nanoTime();
        threads.dumpAllThreads(false, false);
        windows.add(new long[] {t0, System.nanoTime()});
      }
      java.util.List<SafepointEvent> seen = new java.util.ArrayList<>();
      events.read(e -> seen.add((SafepointEvent) e));
      SafepointSnapshot snapshot = probes.snapshot();

      long safepoints = snapshot.operations().stream().mapToLong(o -> o.total().count()).sum();
      assertEquals(safepoints, seen.size(), "with threshold 0 every safepoint is an event");
      for (long[] w : windows) {
        java.util.List<SafepointEvent> inside = seen.stream()
            .filter(e -> e.startNanos() >= w[0] && e.endNanos() <= w[1] && e.operation().equals("ThreadDump"))
            .toList();
        assertEquals(1, inside.size(), "one ThreadDump safepoint per call: " + seen);
        SafepointEvent e = inside.get(0);
        assertTrue(e.syncNanos() >= 0 && e.syncNanos() <= e.endNanos() - e.startNanos(), e.toString());
      }
    }
  }
}
