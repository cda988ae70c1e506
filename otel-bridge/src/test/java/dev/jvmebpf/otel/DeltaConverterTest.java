package dev.jvmebpf.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.resources.Resource;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class DeltaConverterTest {

  private static final HistogramLayout LAYOUT = HistogramLayout.nanosecondsAsSeconds(3);

  @Test
  void histogramDeltaIsTheHistogramOfTheIntervalsValues() {
    long[] first = LongStream.rangeClosed(1, 2000).map(i -> i * 7919).toArray();
    long[] second = LongStream.rangeClosed(1, 500).map(i -> i * 104729).toArray();
    long[] both = LongStream.concat(LongStream.of(first), LongStream.of(second)).toArray();
    DeltaConverter converter = new DeltaConverter();

    List<MetricData> d1 = converter.apply(List.of(histogramMetric(first, 10)));
    ExponentialHistogramPointData p1 = d1.get(0).getExponentialHistogramData().getPoints().iterator().next();
    assertEquals(AggregationTemporality.DELTA, d1.get(0).getExponentialHistogramData().getAggregationTemporality());
    assertEquals(first.length, p1.getCount(), "the first delta is everything so far");

    List<MetricData> d2 = converter.apply(List.of(histogramMetric(both, 20)));
    ExponentialHistogramPointData delta = d2.get(0).getExponentialHistogramData().getPoints().iterator().next();
    ExponentialHistogramPointData expected = ExponentialHistograms.point(
        HistogramTestSupport.kernelHistogram(LAYOUT, second), Attributes.empty(), HistogramTestSupport.CONTEXT);
    assertEquals(expected.getCount(), delta.getCount());
    assertEquals(expected.getPositiveBuckets().getOffset(), delta.getPositiveBuckets().getOffset());
    assertEquals(expected.getPositiveBuckets().getBucketCounts(), delta.getPositiveBuckets().getBucketCounts());
    assertEquals(expected.getSum(), delta.getSum(), 1e-12);
    assertEquals(10, delta.getStartEpochNanos(), "starts where the last delta ended");
    assertEquals(20, delta.getEpochNanos());
    assertFalse(delta.hasMin(), "a delta carries no lifetime min");

    assertTrue(converter.apply(List.of(histogramMetric(both, 30))).isEmpty(), "nothing new, nothing exported");
  }

  @Test
  void counterDeltaIsTheIncrease() {
    DeltaConverter converter = new DeltaConverter();
    MetricContext at10 = context(10);
    MetricContext at20 = context(20);
    converter.apply(ProbeMetrics.of(List.of(new ProbeStats("p", 5, 0, 0, 0, 0)), at10));
    List<MetricData> delta = converter.apply(ProbeMetrics.of(List.of(new ProbeStats("p", 12, 0, 0, 0, 0)), at20));
    MetricData events = delta.stream().filter(m -> m.getName().equals(ProbeMetrics.EVENTS)).findFirst().orElseThrow();
    LongPointData point = events.getLongSumData().getPoints().iterator().next();
    assertEquals(7, point.getValue());
    assertEquals(10, point.getStartEpochNanos());
    assertTrue(delta.stream().noneMatch(m -> m.getName().equals(ProbeMetrics.DROPPED)), "unchanged counters");
  }

  private static MetricData histogramMetric(long[] values, long epochNanos) {
    MetricContext context = context(epochNanos);
    return ExponentialHistograms.metric(context, "h", "", "s", List.of(ExponentialHistograms.point(
        HistogramTestSupport.kernelHistogram(LAYOUT, values), Attributes.empty(), context)));
  }

  private static MetricContext context(long epochNanos) {
    return new MetricContext(Resource.empty(), InstrumentationScopeInfo.create("test"), 1, epochNanos);
  }
}
