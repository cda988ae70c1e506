package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.GcWorkload;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Export over both OTLP protocols, decoded with the official proto classes. */
class OtlpExportIT extends ReceiverTest {

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "http/protobuf"})
  void exportsEveryMetricWithConsistentHistograms(String protocol) throws Exception {
    receiver.clear();
    TargetJvm.Result run = TargetJvm.on(Fixtures.jdk17())
        .withAgent(receiver.agentArguments(protocol).replace("interval=600s", "interval=1s"))
        .jvmArgs("-XX:+UseG1GC", "-Xmx128m")
        .run(Duration.ofSeconds(90), GcWorkload.class, "2500", "1");
    assertEquals(0, run.exitCode(), run.stderr());

    List<OtlpReceiver.Received> received = receiver.received();
    assertTrue(received.size() >= 2, "periodic exports and the last one at exit: " + received.size());
    int histogramPoints = 0;
    for (OtlpReceiver.Received r : received) {
      assertEquals(protocol, r.protocol());
      for (ResourceMetrics rm : r.request().getResourceMetricsList()) {
        Map<String, String> resource = Otlp.attributes(rm.getResource().getAttributesList());
        assertEquals(GcWorkload.class.getName(), resource.get("service.name"), "service.name from the main class");
        assertEquals(Long.toString(run.pid()), resource.get("process.pid"));
        assertEquals("jvm-ebpf-agent", resource.get("telemetry.distro.name"));
        assertFalse(resource.getOrDefault("host.name", "").isEmpty(), "host.name");
        assertTrue(resource.getOrDefault("process.runtime.version", "").startsWith("17"), resource.toString());
        for (ScopeMetrics sm : rm.getScopeMetricsList()) {
          assertEquals("jvm-ebpf-agent", sm.getScope().getName());
          for (Metric m : sm.getMetricsList()) {
            if (m.hasExponentialHistogram()) {
              assertEquals(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE,
                  m.getExponentialHistogram().getAggregationTemporality());
              for (ExponentialHistogramDataPoint p : m.getExponentialHistogram().getDataPointsList()) {
                assertEquals(p.getCount(), Otlp.bucketTotal(p), m.getName() + " buckets sum to count");
                assertEquals(3, p.getScale(), "default scale");
                assertTrue(p.getMin() <= p.getMax() && p.getSum() >= p.getMin(), m.getName());
                histogramPoints++;
              }
            }
          }
        }
      }
    }
    assertTrue(histogramPoints > 0);
    Set<String> names = new java.util.HashSet<>();
    received.forEach(r -> r.request().getResourceMetricsList().forEach(rm -> rm.getScopeMetricsList()
        .forEach(sm -> sm.getMetricsList().forEach(m -> names.add(m.getName())))));
    assertTrue(names.containsAll(List.of("jvm.gc.duration", "jvm.memory.used_after_last_gc", "jvm.safepoint.duration",
        "jvm.safepoint.sync.duration", "jvm.ebpf.probe.events", "jvm.ebpf.probe.dropped")), names.toString());
  }

  @Test
  void deltaTemporalityAddsUpToTheMxBeansCounts() throws Exception {
    receiver.clear();
    TargetJvm.Result run = TargetJvm.on(Fixtures.jdk17())
        .withAgent(receiver.agentArguments("http/protobuf").replace("interval=600s", "interval=1s")
            + ",otel.exporter.otlp.metrics.temporality.preference=delta")
        .jvmArgs("-XX:+UseSerialGC", "-Xmx128m", "-Xms128m") // cannot shrink: see GcDurationIT
        .run(Duration.ofSeconds(90), GcWorkload.class, "3000", "1");
    assertEquals(0, run.exitCode(), run.stderr());
    Map<String, Long> summed = new HashMap<>();
    int deltas = 0;
    for (OtlpReceiver.ResourceMetric rm : receiver.metrics("jvm.gc.duration")) {
      assertEquals(AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA,
          rm.metric().getExponentialHistogram().getAggregationTemporality());
      for (ExponentialHistogramDataPoint p : rm.metric().getExponentialHistogram().getDataPointsList()) {
        summed.merge(Otlp.attributes(p.getAttributesList()).get("jvm.gc.name"), p.getCount(), Long::sum);
        assertEquals(p.getCount(), Otlp.bucketTotal(p));
        deltas++;
      }
    }
    assertTrue(deltas >= 2, "several delta points: " + deltas);
    run.beans().forEach((name, collections) ->
        assertEquals(collections, summed.getOrDefault(name, 0L), "deltas of " + name + " add up"));
  }
}
