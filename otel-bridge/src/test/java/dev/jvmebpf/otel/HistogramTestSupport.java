package dev.jvmebpf.otel;

import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;

/** Builds what the kernel would hold after recording some values: buckets by the Java table. */
final class HistogramTestSupport {

  static final MetricContext CONTEXT = new MetricContext(Resource.empty(), InstrumentationScopeInfo.create("test"),
      1_000L, 2_000L);

  private HistogramTestSupport() {}

  static HistogramSnapshot kernelHistogram(HistogramLayout layout, long... values) {
    long[] counts = new long[layout.bucketCount()];
    long zero = 0;
    long sum = 0;
    long min = Long.MAX_VALUE;
    long max = 0;
    for (long v : values) {
      if (v == 0) {
        zero++;
      } else {
        counts[layout.bucketOf(v)]++;
      }
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return new HistogramSnapshot(layout, zero, counts, sum, values.length == 0 ? 0 : min, max);
  }

  static Attributes noAttributes() {
    return Attributes.empty();
  }
}
