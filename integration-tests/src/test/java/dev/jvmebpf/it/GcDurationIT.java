package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.GcWorkload;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * jvm.gc.duration from the real agent against two oracles of the same run: the
 * GarbageCollectorMXBeans' collection counts (exactly equal) and the pause times HotSpot logs
 * with -Xlog:gc (within 5%, or 2 ms); on the host and in a pid namespace of its own (as in a
 * container).
 */
class GcDurationIT extends ReceiverTest {

  @ParameterizedTest(name = "JDK {0}, {1}, {2}")
  @CsvSource({"17,SerialGC,host", "17,ParallelGC,host", "17,G1GC,host", "25,SerialGC,host", "25,ParallelGC,host",
      "25,G1GC,host", "17,G1GC,pidns", "25,ParallelGC,pidns", "25,G1GC,busy"})
  void countsEqualTheMxBeansAndPausesMatchTheGcLog(int jdk, String collector, String where) throws Exception {
    Path home = Fixtures.jdk(jdk);
    // HotSpot archives an existing log file as <name>.0: give it a directory of its own.
    Path logDir = Files.createTempDirectory("jeb-gc-");
    Path log = logDir.resolve("gc.log");
    receiver.clear();
    try {
      TargetJvm.Result run = TargetJvm.on(home).in(where).withAgent(receiver.agentArguments("http/protobuf"))
          // A heap that cannot shrink: the workload's last System.gc() otherwise leaves G1 a 17 MB
          // heap with about 1 MB of eden, which the agent's exit export fills: a collection after
          // the window (3 runs in 3 on JDK 25), one more than the beans when it comes before the
          // kernel's last read.
          .jvmArgs("-XX:+Use" + collector, "-Xmx256m", "-Xms256m", GcLog.option(log))
          .run(Duration.ofSeconds(120), GcWorkload.class, "4000", "2");
      assertEquals(0, run.exitCode(), run.stderr());
      assertTrue(run.value("AGENT").startsWith("on: gc"), "agent status: " + run.value("AGENT") + "\n" + run.stderr());

      Map<String, Long> beans = run.beans();
      Map<String, String> actions = run.table("ACTION");
      long windowStart = Long.parseLong(run.value("WINDOW_START_MS"));
      long windowEnd = Long.parseLong(run.value("WINDOW_END_MS"));

      Map<String, ExponentialHistogramDataPoint> ours = receiver.gcDurations();
      for (Map.Entry<String, ExponentialHistogramDataPoint> e : ours.entrySet()) {
        String name = e.getKey();
        ExponentialHistogramDataPoint p = e.getValue();
        assertEquals(p.getCount(), Otlp.bucketTotal(p), "bucket counts of " + name + " sum to its count");
        if (actions.containsKey(name)) {
          assertEquals(actions.get(name), Otlp.attributes(p.getAttributesList()).get("jvm.gc.action"),
              "jvm.gc.action of " + name);
        }
      }
      long collections = 0;
      for (Map.Entry<String, Long> bean : beans.entrySet()) {
        long exported = ours.containsKey(bean.getKey()) ? ours.get(bean.getKey()).getCount() : 0;
        assertEquals(bean.getValue(), exported, () -> "collections of " + bean.getKey() + "; the GC log's pauses "
            + "just outside the window [" + windowStart + ", " + windowEnd + "] ms: " + pausesOutside(log, windowStart, windowEnd));
        collections += bean.getValue();
      }
      assertEquals(beans.keySet().containsAll(ours.keySet()), true, "no collector beyond the MXBeans': " + ours.keySet());
      assertTrue(collections >= 20, "the workload collected " + collections + " times");

      // JDK 17's G1 MXBeans do not count the remark and cleanup pauses (JDK 21 added a bean for them).
      List<GcLog.Pause> pauses = GcLog.pauses(log).stream()
          .filter(p -> p.uptimeMillis() >= windowStart && p.uptimeMillis() <= windowEnd)
          .filter(p -> jdk >= 21 || !(p.kind().equals("Pause Remark") || p.kind().equals("Pause Cleanup")))
          .toList();
      // The MXBeans' own timing of the same collections: GcInfo's start and end, whole milliseconds.
      List<String> notified = run.values("GCINFO");
      assertEquals(collections, pauses.size(), "the GC log's pauses are the MXBeans' collections; pauses just "
          + "outside the window [" + windowStart + ", " + windowEnd + "] ms: " + pausesOutside(log, windowStart, windowEnd)
          + "; the window's pauses: " + pauses + "; its GC notifications (collector, id, start, end ms): " + notified);
      double logged = pauses.stream().mapToDouble(GcLog.Pause::millis).sum();
      assertEquals(collections, notified.size(), "a GC notification for each of the window's collections");
      long gcInfo = notified.stream().map(line -> line.split("\t"))
          .mapToLong(f -> Long.parseLong(f[3]) - Long.parseLong(f[2])).sum();
      double measured = ours.values().stream().mapToDouble(ExponentialHistogramDataPoint::getSum).sum() * 1000;
      System.out.printf("JDK %d %s %s: %d collections, -Xlog:gc pauses %.1f ms, GcInfo %d ms, jvm.gc.duration %.1f ms "
          + "(%+.2f%% of the log's, %+.2f%% of GcInfo's)%n", jdk, collector, where, collections, logged, gcInfo, measured,
          100 * (measured - logged) / logged, 100 * (measured - gcInfo) / gcInfo);
      // A collection is timed from its first memory pool's begin to its first pool's end. The log's
      // pause holds that and the work around it (the VM operation's set-up, queuing the GC
      // notification, heap printing), so it is never shorter: above it by 1% at most (the log's
      // rounding, the clocks' difference).
      assertTrue(measured <= logged + Math.max(0.01 * logged, 2.0),
          "summed pause time " + measured + " ms above -Xlog:gc's " + logged + " ms");
      // The log is no bound from below: when another process competes for the CPU, HotSpot's VM
      // thread, having queued the GC notification and woken the service thread, is often switched
      // out before it ends the log's pause (two busy loops beside the test: Serial's logged pauses
      // 18-39% longer than GcInfo's, with or without the agent). GcInfo's stamps are taken a few
      // microseconds from the pool probes, so the two sums agree to 1-2.5% (seen, loaded and
      // not); each GcInfo duration is off by under 1 ms from truncation (variance 1/6 ms^2). So
      // below GcInfo's sum by 3% and five standard deviations of the truncation is a lost duration.
      double allowed = 0.03 * gcInfo + 5 * Math.sqrt(collections / 6.0) + 2.0;
      assertTrue(measured >= gcInfo - allowed,
          "summed pause time " + measured + " ms below GcInfo's " + gcInfo + " ms by more than " + allowed + " ms");
    } finally {
      try (var files = Files.list(logDir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.delete(f);
        }
      }
      Files.delete(logDir);
    }
  }

  /** What tells a count's difference apart: pauses up to half a second before the window and all after it. */
  private static String pausesOutside(Path log, long windowStart, long windowEnd) {
    try {
      return GcLog.pauses(log).stream()
          .filter(p -> (p.uptimeMillis() < windowStart && p.uptimeMillis() >= windowStart - 500) || p.uptimeMillis() > windowEnd)
          .toList().toString();
    } catch (java.io.IOException e) {
      return "unreadable: " + e;
    }
  }
}
