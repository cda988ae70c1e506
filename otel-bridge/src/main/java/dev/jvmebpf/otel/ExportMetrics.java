package dev.jvmebpf.otel;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.SumData;
import java.util.List;

/** The agent's exporter health: {@code jvm.ebpf.export.failures}, a counter of failed exports. */
public final class ExportMetrics {

  public static final String FAILURES = "jvm.ebpf.export.failures";

  private ExportMetrics() {}

  /** The counter with {@code failures} exports failed since the context's start. */
  public static MetricData failures(MetricContext context, long failures) {
    LongPointData point = LongPointData.create(context.startEpochNanos(), context.epochNanos(), Attributes.empty(),
        failures);
    return new KernelMetricData(context.resource(), context.scope(), FAILURES,
        "Metric exports that failed (backend unreachable or refusing).", "{export}", MetricDataType.LONG_SUM,
        SumData.createLongSumData(true, AggregationTemporality.CUMULATIVE, List.of(point)));
  }
}
