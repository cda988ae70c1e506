package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.GcWorkload;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Pins what the agent reports for the concurrent collectors (README, "ZGC and Shenandoah"):
 * one jvm.gc.duration series per GarbageCollectorMXBean, "... Cycles" with the concurrent
 * cycles' durations and "... Pauses" with the pauses', each counting exactly what its bean
 * counts; generational ZGC's minor and major pauses apart, as HotSpot attributes them.
 * Shenandoah's pauses carry one action, "end of GC pause", where its notifications name the phase.
 */
class ConcurrentCollectorsIT extends ReceiverTest {

  @ParameterizedTest(name = "JDK {0}, {1}")
  @CsvSource({"17,ZGC", "17,ShenandoahGC", "25,ZGC", "25,ShenandoahGC"})
  void everyBeanIsReportedWithItsExactCount(int jdk, String collector) throws Exception {
    receiver.clear();
    // The kernel counts until the agent's last export at exit, after the workload's last reading
    // of the beans: a collection in between (seen: 237 pauses counted against 236, and a ZGC
    // cycle's last pause after a quiet half second under load, 513 against 512) is in ours only.
    // So the beans' window ends at a reading confirmed 3 s later, with an export every second in
    // between, and the export compared is one collected between the two readings. GC spans off:
    // they are GcSpanIT's.
    TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(jdk))
        .withAgent(receiver.agentArguments("grpc") + ",spans.gc=off,interval=1s")
        .jvmArgs(collector.equals("ZGC") ? new String[] {"-XX:+UseZGC", "-XX:-ZProactive", "-Xmx256m"}
            : new String[] {"-XX:+Use" + collector, "-Xmx256m"})
        .run(Duration.ofSeconds(120), GcWorkload.class, "3000", "2", "quiesce", "3000");
    assertEquals(0, run.exitCode(), run.stderr());
    assertTrue(run.value("AGENT").startsWith("on: gc"), run.value("AGENT"));

    Map<String, Long> beans = run.beans();
    Map<String, String> actions = run.table("ACTION");
    long end = Long.parseLong(run.value("WINDOW_END_EPOCH_NS"));
    long confirmed = Long.parseLong(run.value("WINDOW_CONFIRMED_EPOCH_NS"));
    assertTrue(confirmed > end, "two readings agreed: " + run.stdout());
    // Margins for the collection's own time stamp against its snapshot of the maps.
    Map<String, ExponentialHistogramDataPoint> ours = receiver.gcDurationsCollectedBetween(end + 50_000_000L,
        confirmed - 200_000_000L);
    for (ExponentialHistogramDataPoint p : ours.values()) {
      Map<String, String> attributes = Otlp.attributes(p.getAttributesList());
      String name = attributes.get("jvm.gc.name");
      if (name.equals("Shenandoah Pauses")) {
        // Its notifications name each pause's phase ("Init Mark", "Final Mark", ...) as the
        // action; the probes do not see the phase, so all its pauses share one series.
        assertEquals("end of GC pause", attributes.get("jvm.gc.action"));
      } else if (actions.containsKey(name)) {
        assertEquals(actions.get(name), attributes.get("jvm.gc.action"), "jvm.gc.action of " + name);
      }
    }
    StringBuilder report = new StringBuilder("JDK " + jdk + " " + collector + ":");
    for (Map.Entry<String, Long> bean : beans.entrySet()) {
      ExponentialHistogramDataPoint p = ours.get(bean.getKey());
      long exported = p == null ? 0 : p.getCount();
      report.append(String.format(" %s %d/%d (%.1f ms)", bean.getKey(), exported, bean.getValue(),
          p == null ? 0 : p.getSum() * 1000));
      assertEquals(bean.getValue(), exported, "collections of " + bean.getKey());
      if (exported > 0) {
        assertTrue(p.getSum() > 0 && p.getMin() > 0, bean.getKey() + " has durations");
      }
    }
    System.out.println(report);
    assertEquals(beans.keySet(), ours.keySet().stream().filter(beans::containsKey)
        .collect(java.util.stream.Collectors.toSet()), "every collector reported");
    assertTrue(beans.keySet().containsAll(ours.keySet()), "no collector beyond the MXBeans'");
    assertTrue(beans.entrySet().stream().filter(e -> e.getKey().endsWith(" Pauses")).mapToLong(Map.Entry::getValue)
        .sum() > 0, "pauses happened and were counted");
  }
}
