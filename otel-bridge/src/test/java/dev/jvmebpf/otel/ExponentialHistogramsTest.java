package dev.jvmebpf.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramTestValues;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.Base2ExponentialHistogramOptions;
import io.opentelemetry.sdk.metrics.InstrumentSelector;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.View;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Our bucket-for-bucket point against the point the OpenTelemetry SDK itself aggregates from
 * the same values (its exponential histogram fixed at our scale, with room for every bucket).
 */
class ExponentialHistogramsTest {

  @ParameterizedTest
  @CsvSource({"3,1000000000", "2,1000000000", "0,1000000000", "3,1"})
  void pointEqualsTheSdksOwnAggregation(int scale, long perUnit) {
    HistogramLayout layout = HistogramLayout.create(scale, perUnit);
    long[] values = Arrays.stream(HistogramTestValues.of(layout, 100_000))
        .filter(v -> v < HistogramLayout.EXACT_LIMIT).toArray();

    InMemoryMetricReader reader = InMemoryMetricReader.create();
    try (SdkMeterProvider provider = SdkMeterProvider.builder().registerMetricReader(reader)
        .registerView(InstrumentSelector.builder().setName("h").build(),
            View.builder().setAggregation(Aggregation.base2ExponentialBucketHistogram(
                Base2ExponentialHistogramOptions.builder().setMaxBuckets(HistogramLayout.MAX_BUCKETS)
                    .setMaxScale(scale).build())).build())
        .build()) {
      DoubleHistogram histogram = provider.get("test").histogramBuilder("h").build();
      for (long v : values) {
        histogram.record((double) v / perUnit);
      }
      MetricData sdkMetric = reader.collectAllMetrics().iterator().next();
      ExponentialHistogramPointData sdk = sdkMetric.getExponentialHistogramData().getPoints().iterator().next();

      ExponentialHistogramPointData ours = ExponentialHistograms.point(
          HistogramTestSupport.kernelHistogram(layout, values), Attributes.empty(), HistogramTestSupport.CONTEXT);

      assertEquals(sdk.getScale(), ours.getScale(), "scale");
      assertEquals(sdk.getCount(), ours.getCount(), "count");
      assertEquals(sdk.getZeroCount(), ours.getZeroCount(), "zero count");
      assertEquals(sdk.getPositiveBuckets().getOffset(), ours.getPositiveBuckets().getOffset(), "offset");
      assertEquals(sdk.getPositiveBuckets().getBucketCounts(), ours.getPositiveBuckets().getBucketCounts(),
          "bucket counts");
      assertEquals(sdk.getMin(), ours.getMin(), 0.0, "min");
      assertEquals(sdk.getMax(), ours.getMax(), 0.0, "max");
      assertEquals(sdk.getSum(), ours.getSum(), Math.abs(sdk.getSum()) * 1e-12, "sum");
    }
  }
}
