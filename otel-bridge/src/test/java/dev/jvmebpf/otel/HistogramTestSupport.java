package dev.jvmebpf.otel;

import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramRecorder;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;

/** Builds what the kernel would hold after recording some values: buckets by the Java table. */
final class HistogramTestSupport {

  static final MetricContext CONTEXT = new MetricContext(Resource.empty(), InstrumentationScopeInfo.create("test"),
      1_000L, 2_000L);

  private HistogramTestSupport() {}

  static HistogramSnapshot kernelHistogram(HistogramLayout layout, long... values) {
    HistogramRecorder recorder = new HistogramRecorder(layout);
    for (long v : values) {
      recorder.record(v);
    }
    return recorder.snapshot();
  }
}
