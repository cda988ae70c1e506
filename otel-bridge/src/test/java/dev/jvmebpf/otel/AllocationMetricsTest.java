package dev.jvmebpf.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.heapalloc.AllocationSnapshot;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramRecorder;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Allocation snapshots as metrics: names, units, attributes, and both counters summing to one total. */
class AllocationMetricsTest {

  private final MetricContext context = new MetricContext(Resource.empty(),
      InstrumentationScopeInfo.create("test"), 1, 2);

  @Test
  void countersByThreadAndByClassAddUpToTheSameTotal() {
    HistogramLayout bytes = HistogramLayout.create(3, 1);
    HistogramRecorder tlabs = new HistogramRecorder(bytes);
    tlabs.record(1 << 20);
    tlabs.record(1 << 20);
    HistogramRecorder outside = new HistogramRecorder(bytes);
    outside.record(4194320);
    AllocationSnapshot snapshot = new AllocationSnapshot(tlabs.snapshot(),
        List.of(new AllocationSnapshot.ClassAllocation("byte[]", outside.snapshot(), 2 << 20, 4194320),
            new AllocationSnapshot.ClassAllocation("java.lang.String", HistogramSnapshot.empty(bytes), 0, 0)),
        List.of(new AllocationSnapshot.ThreadAllocation("main", (1 << 20) + 4194320),
            new AllocationSnapshot.ThreadAllocation("worker", 1 << 20)),
        List.of());

    Map<String, MetricData> metrics = AllocationMetrics.of(snapshot, context).stream()
        .collect(Collectors.toMap(MetricData::getName, m -> m));
    assertEquals(List.of(AllocationMetrics.BYTES, AllocationMetrics.CLASS_BYTES, AllocationMetrics.OUTSIDE_TLAB_SIZE,
        AllocationMetrics.TLAB_SIZE), new ArrayList<>(new java.util.TreeSet<>(metrics.keySet())));
    metrics.values().forEach(m -> assertEquals("By", m.getUnit(), m.getName()));

    long byThread = sum(metrics.get(AllocationMetrics.BYTES));
    long byClass = sum(metrics.get(AllocationMetrics.CLASS_BYTES));
    assertEquals((2L << 20) + 4194320, byThread);
    assertEquals(byThread, byClass);
    // A class with nothing allocated is left out rather than exported as zero.
    assertEquals(1, metrics.get(AllocationMetrics.CLASS_BYTES).getLongSumData().getPoints().size());
    assertEquals("byte[]", metrics.get(AllocationMetrics.OUTSIDE_TLAB_SIZE).getExponentialHistogramData()
        .getPoints().iterator().next().getAttributes().get(AllocationMetrics.CLASS_NAME));
    assertTrue(metrics.get(AllocationMetrics.BYTES).getLongSumData().isMonotonic());
  }

  private static long sum(MetricData m) {
    return m.getLongSumData().getPoints().stream().mapToLong(LongPointData::getValue).sum();
  }
}
