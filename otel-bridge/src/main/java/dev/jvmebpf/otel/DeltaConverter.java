package dev.jvmebpf.otel;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramBuckets;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.SumData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns successive cumulative collections into deltas, series by series (metric name plus
 * attributes). A series' first delta starts where its cumulative point started. Histograms
 * with no new value and counters that did not move are left out, as the SDK does for delta
 * temporality; gauges pass through. Not thread-safe (the producer serialises calls).
 */
final class DeltaConverter {

  private record Series(String metric, Attributes attributes) {}

  private final Map<Series, ExponentialHistogramPointData> histograms = new HashMap<>();
  private final Map<Series, LongPointData> counters = new HashMap<>();

  List<MetricData> apply(List<MetricData> cumulative) {
    List<MetricData> out = new ArrayList<>(cumulative.size());
    for (MetricData metric : cumulative) {
      switch (metric.getType()) {
        case EXPONENTIAL_HISTOGRAM -> {
          List<ExponentialHistogramPointData> points = new ArrayList<>();
          for (ExponentialHistogramPointData p : metric.getExponentialHistogramData().getPoints()) {
            ExponentialHistogramPointData before = histograms.put(new Series(metric.getName(), p.getAttributes()), p);
            ExponentialHistogramPointData d = before == null ? p : subtract(p, before);
            if (d.getCount() > 0) {
              points.add(d);
            }
          }
          if (!points.isEmpty()) {
            out.add(KernelMetricData.withData(metric,
                ExponentialHistogramData.create(AggregationTemporality.DELTA, points)));
          }
        }
        case LONG_SUM -> {
          List<LongPointData> points = new ArrayList<>();
          for (LongPointData p : metric.getLongSumData().getPoints()) {
            LongPointData before = counters.put(new Series(metric.getName(), p.getAttributes()), p);
            long value = before == null ? p.getValue() : p.getValue() - before.getValue();
            if (value != 0) {
              long start = before == null ? p.getStartEpochNanos() : before.getEpochNanos();
              points.add(LongPointData.create(start, p.getEpochNanos(), p.getAttributes(), value));
            }
          }
          if (!points.isEmpty()) {
            out.add(KernelMetricData.withData(metric, SumData.createLongSumData(
                metric.getLongSumData().isMonotonic(), AggregationTemporality.DELTA, points)));
          }
        }
        default -> out.add(metric);
      }
    }
    return out;
  }

  /** now - before for two cumulative points of one series at the same scale. */
  static ExponentialHistogramPointData subtract(ExponentialHistogramPointData now,
      ExponentialHistogramPointData before) {
    ExponentialHistogramBuckets a = now.getPositiveBuckets();
    ExponentialHistogramBuckets b = before.getPositiveBuckets();
    if (a.getScale() != b.getScale()) {
      throw new IllegalArgumentException("scale changed from " + b.getScale() + " to " + a.getScale());
    }
    List<Long> counts = new ArrayList<>(a.getBucketCounts());
    int offset = a.getOffset();
    List<Long> earlier = b.getBucketCounts();
    for (int i = 0; i < earlier.size(); i++) {
      int at = b.getOffset() + i - offset;
      if (earlier.get(i) == 0) {
        continue;
      }
      if (at < 0 || at >= counts.size()) {
        throw new IllegalArgumentException("bucket " + (b.getOffset() + i) + " disappeared between collections");
      }
      counts.set(at, counts.get(at) - earlier.get(i));
    }
    int first = 0;
    while (first < counts.size() && counts.get(first) == 0) {
      first++;
    }
    int last = counts.size() - 1;
    while (last >= first && counts.get(last) == 0) {
      last--;
    }
    List<Long> kept = first > last ? List.of() : new ArrayList<>(counts.subList(first, last + 1));
    return ExponentialHistogramPointData.create(a.getScale(), now.getSum() - before.getSum(),
        now.getZeroCount() - before.getZeroCount(), false, 0, false, 0,
        ExponentialHistogramBuckets.create(a.getScale(), kept.isEmpty() ? 0 : offset + first, kept),
        now.getNegativeBuckets(), before.getEpochNanos(), now.getEpochNanos(), now.getAttributes(), List.of());
  }
}
