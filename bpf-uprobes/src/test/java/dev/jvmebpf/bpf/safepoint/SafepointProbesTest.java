package dev.jvmebpf.bpf.safepoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
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
}
