package dev.jvmebpf.bpf.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
      // Attached but not counting yet: collections the MXBeans count leave the histograms empty.
      Map<String, Long> ungated = collectionCounts();
      System.gc();
      System.gc();
      long uncounted = collectionCounts().entrySet().stream()
          .mapToLong(e -> e.getValue() - ungated.getOrDefault(e.getKey(), 0L)).sum();
      assertTrue(uncounted >= 2, "two System.gc() calls collected " + uncounted + " times");
      for (GcSnapshot.CollectorDurations c : probes.snapshot().collectors()) {
        assertEquals(0, c.durations().count(), "collections of " + c.name() + " before startCounting()");
      }

      probes.startCounting();
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

  @Test
  void aCollectionEndingWhileTheGateOpensIsForgottenAndTheGateOpensAgain() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    HistogramLayout layout = HistogramLayout.nanosecondsAsSeconds(3);
    try (GcProbes probes = GcProbes.attach(libbpf, JvmProcess.current(), GcCollectors.ofThisJvm(), layout)) {
      // The first attempt's second reading comes after a collection the open gate let count.
      List<Map<String, Long>> readings = new ArrayList<>();
      long[] countedInFirstAttempt = {-1};
      probes.beanCounts = () -> {
        if (readings.size() == 1) {
          System.gc();
          try {
            countedInFirstAttempt[0] = total(probes.snapshot());
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        }
        Map<String, Long> counts = collectionCounts();
        readings.add(counts);
        return counts;
      };
      probes.startCounting();
      assertTrue(countedInFirstAttempt[0] >= 1, "the kernel counted the collection between the first readings: "
          + countedInFirstAttempt[0]);
      assertEquals(4, readings.size(), "readings: two attempts of two");
      Map<String, Long> from = probes.countedAfter().orElseThrow();
      assertEquals(readings.get(2), from, "the counts of the second attempt");

      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      Map<String, Long> now = collectionCounts();
      long total = 0;
      for (GcSnapshot.CollectorDurations c : probes.snapshot().collectors()) {
        long expected = now.getOrDefault(c.name(), 0L) - from.getOrDefault(c.name(), 0L);
        assertEquals(expected, c.durations().count(), "collections of " + c.name() + " since the gate opened");
        total += expected;
      }
      assertTrue(total >= 3, "three System.gc() calls collected " + total + " times");
    }
  }

  private static long total(GcSnapshot snapshot) {
    return snapshot.collectors().stream().mapToLong(c -> c.durations().count()).sum();
  }

  @Test
  void everyCollectionBecomesOneEventWithinTheTestsOwnClock() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    HistogramLayout layout = HistogramLayout.nanosecondsAsSeconds(3);
    try (SpanEvents events = SpanEvents.create(libbpf, SpanEvents.DEFAULT_BYTES);
        GcProbes probes = GcProbes.attach(libbpf, JvmProcess.current(), GcCollectors.ofThisJvm(), layout, events, 0)) {
      probes.startCounting();
      Map<String, Long> before = collectionCounts();
      List<long[]> explicit = new ArrayList<>(); // System.nanoTime() around each System.gc()
      for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 200_000; i++) {
          sink = new byte[1024];
        }
        long t0 = System.nanoTime();
        System.gc();
        explicit.add(new long[] {t0, System.nanoTime()});
      }
      Map<String, Long> after = collectionCounts();
      List<GcEvent> seen = new ArrayList<>();
      events.read(e -> seen.add((GcEvent) e));

      Map<String, Long> perCollector = new HashMap<>();
      for (GcEvent e : seen) {
        perCollector.merge(e.collector(), 1L, Long::sum);
        assertTrue(e.endNanos() > e.startNanos(), "a collection that lasts: " + e);
        assertTrue(e.tid() > 0, "a thread: " + e);
        assertFalse(e.pause(), "G1, Parallel and Serial report collections only: " + e);
      }
      for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
        long expected = after.get(bean.getName()) - before.get(bean.getName());
        assertEquals(expected, perCollector.getOrDefault(bean.getName(), 0L), "events of " + bean.getName());
      }
      // Each System.gc() is a collection that lies within the test's own clock readings around it.
      for (long[] window : explicit) {
        long inside = seen.stream().filter(e -> e.startNanos() >= window[0] && e.endNanos() <= window[1]).count();
        assertTrue(inside >= 1, "a collection between " + window[0] + " and " + window[1] + " ns: " + seen);
      }
      long submitted = probes.snapshot().probes().stream().mapToLong(ProbeStats::spans).sum();
      assertEquals(seen.size(), submitted, "spans counted as submitted by the programs");
      assertEquals(0, events.undecodable());
    }
  }

  @Test
  void collectionsBelowTheThresholdSendNothing() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    HistogramLayout layout = HistogramLayout.nanosecondsAsSeconds(3);
    try (SpanEvents events = SpanEvents.create(libbpf, 4096);
        GcProbes probes = GcProbes.attach(libbpf, JvmProcess.current(), GcCollectors.ofThisJvm(), layout, events,
            3_600_000_000_000L)) {
      probes.startCounting();
      for (int round = 0; round < 3; round++) {
        System.gc();
      }
      List<Object> seen = new ArrayList<>();
      events.read(seen::add);
      GcSnapshot snapshot = probes.snapshot();
      long collections = snapshot.collectors().stream().mapToLong(c -> c.durations().count()).sum();
      assertTrue(collections >= 3, "collections counted: " + collections);
      assertEquals(List.of(), seen);
      assertEquals(0, snapshot.probes().stream().mapToLong(ProbeStats::spans).sum());
    }
  }

  @Test
  void aFullRingDropsAndCountsWhileTheApplicationGoesOn() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    HistogramLayout layout = HistogramLayout.nanosecondsAsSeconds(3);
    // One page: room for about a hundred GC records, and nobody reads it while the JVM collects.
    try (SpanEvents events = SpanEvents.create(libbpf, 4096);
        GcProbes probes = GcProbes.attach(libbpf, JvmProcess.current(), GcCollectors.ofThisJvm(), layout, events, 0)) {
      probes.startCounting();
      Map<String, Long> before = collectionCounts();
      long t0 = System.nanoTime();
      for (int i = 0; i < 300; i++) {
        System.gc();
      }
      long elapsed = System.nanoTime() - t0;
      Map<String, Long> after = collectionCounts();
      long collections = after.keySet().stream().mapToLong(k -> after.get(k) - before.get(k)).sum();
      List<Object> read = new ArrayList<>();
      events.read(read::add);

      GcSnapshot snapshot = probes.snapshot();
      long dropped = snapshot.probes().stream().mapToLong(ProbeStats::dropped).sum();
      long sent = snapshot.probes().stream().mapToLong(ProbeStats::spans).sum();
      assertTrue(collections >= 300, "collections: " + collections);
      assertTrue(dropped > 0, "a ring of one page overflowed: " + read.size() + " read of " + collections);
      assertEquals(read.size(), sent, "what the programs sent is what was read");
      assertEquals(collections, sent + dropped, "every collection was either sent or counted as dropped");
      // The histogram lost nothing: the ring's overflow is the spans' alone.
      assertEquals(collections, snapshot.collectors().stream().mapToLong(c -> c.durations().count()).sum());
      System.out.printf("300 System.gc() with a full ring: %d spans, %d dropped, %.1f ms%n", sent, dropped,
          elapsed / 1e6);
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
