package dev.jvmebpf.bpf.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryUsage;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Real BPF on this test JVM: collections counted in the kernel against the JVM's own MXBeans. */
class GcProbesTest {

  static volatile Object sink;

  @Test
  void countsEveryCollectionTheMxBeansCount() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    HistogramLayout layout = HistogramLayout.nanosecondsAsSeconds(3);
    try (GcProbes probes = GcProbes.attach(libbpf, JvmProcess.current(), GcCollectors.ofThisJvm(), layout)) {
      Map<String, Long> before = collectionCounts();
      for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 200_000; i++) {
          sink = new byte[1024];
        }
        System.gc();
      }
      Map<String, Long> after = collectionCounts();
      GcSnapshot snapshot = probes.snapshot();

      long total = 0;
      for (GcSnapshot.CollectorDurations c : snapshot.collectors()) {
        long expected = after.getOrDefault(c.name(), 0L) - before.getOrDefault(c.name(), 0L);
        assertEquals(expected, c.durations().count(), "collections of " + c.name());
        total += expected;
      }
      assertTrue(total >= 3, "the workload collected at least 3 times, saw " + total);

      // After the last System.gc(), each pool's usage after GC is what its MXBean reports.
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        MemoryUsage usage = pool.getCollectionUsage();
        if (usage == null || usage.getUsed() == 0) {
          continue;
        }
        GcSnapshot.PoolUsage ours = snapshot.pools().stream().filter(p -> p.pool().equals(pool.getName()))
            .findFirst().orElseThrow(() -> new AssertionError("no usage after GC for " + pool.getName()));
        assertEquals(usage.getUsed(), ours.usedBytes(), "used after GC of " + pool.getName());
      }
      ProbeStats poolBegin = snapshot.probes().stream().filter(p -> p.probe().equals("usdt_mem_pool_gc_begin"))
          .findFirst().orElseThrow();
      assertTrue(poolBegin.events() >= total, "pool probes fired: " + poolBegin);
      assertEquals(0, poolBegin.dropped());
    }
  }

  private static Map<String, Long> collectionCounts() {
    Map<String, Long> counts = new HashMap<>();
    for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
      counts.put(bean.getName(), bean.getCollectionCount());
    }
    return counts;
  }
}
