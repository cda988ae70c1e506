package dev.jvmebpf.otel;

import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramBuckets;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import java.util.ArrayList;
import java.util.List;

/**
 * Kernel histograms as OpenTelemetry exponential histograms, bucket for bucket: kernel bucket
 * {@code k} is OpenTelemetry bucket {@code layout.firstIndex() + k} at {@code layout.scale()},
 * so counts are copied, never re-recorded. Values are converted from the kernel's base unit
 * (nanoseconds, bytes) to the metric's unit only for sum, min and max.
 */
public final class ExponentialHistograms {

  private ExponentialHistograms() {}

  /** A cumulative point; empty buckets at both ends are trimmed. */
  public static ExponentialHistogramPointData point(HistogramSnapshot snapshot, Attributes attributes,
      MetricContext context) {
    HistogramLayout layout = snapshot.layout();
    long[] counts = snapshot.bucketCounts();
    int first = 0;
    while (first < counts.length && counts[first] == 0) {
      first++;
    }
    int last = counts.length - 1;
    while (last >= first && counts[last] == 0) {
      last--;
    }
    List<Long> kept = new ArrayList<>(Math.max(0, last - first + 1));
    for (int k = first; k <= last; k++) {
      kept.add(counts[k]);
    }
    int offset = kept.isEmpty() ? 0 : layout.firstIndex() + first;
    boolean any = snapshot.count() > 0;
    return ExponentialHistogramPointData.create(
        layout.scale(),
        layout.toUnit(snapshot.sum()),
        snapshot.zeroCount(),
        any, any ? layout.toUnit(snapshot.min()) : 0,
        any, any ? layout.toUnit(snapshot.max()) : 0,
        ExponentialHistogramBuckets.create(layout.scale(), offset, kept),
        ExponentialHistogramBuckets.create(layout.scale(), 0, List.of()),
        context.startEpochNanos(), context.epochNanos(), attributes, List.of());
  }

  public static MetricData metric(MetricContext context, String name, String description, String unit,
      List<ExponentialHistogramPointData> points) {
    return new KernelMetricData(context.resource(), context.scope(), name, description, unit,
        MetricDataType.EXPONENTIAL_HISTOGRAM,
        ExponentialHistogramData.create(AggregationTemporality.CUMULATIVE, points));
  }
}
