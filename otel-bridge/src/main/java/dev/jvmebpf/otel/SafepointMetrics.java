package dev.jvmebpf.otel;

import static io.opentelemetry.api.common.AttributeKey.stringKey;

import dev.jvmebpf.bpf.safepoint.SafepointSnapshot;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import java.util.ArrayList;
import java.util.List;

/**
 * Safepoint metrics (ours, not in the semantic conventions): {@code jvm.safepoint.duration},
 * the whole stop-the-world pause, and {@code jvm.safepoint.sync.duration}, the time until every
 * Java thread had stopped; exponential histograms in seconds by
 * {@code jvm.safepoint.operation} (HotSpot's VM operation name).
 */
public final class SafepointMetrics {

  public static final String SAFEPOINT_DURATION = "jvm.safepoint.duration";
  public static final String SAFEPOINT_SYNC_DURATION = "jvm.safepoint.sync.duration";
  public static final AttributeKey<String> OPERATION = stringKey("jvm.safepoint.operation");

  private SafepointMetrics() {}

  public static List<MetricData> of(SafepointSnapshot snapshot, MetricContext context) {
    List<ExponentialHistogramPointData> total = new ArrayList<>();
    List<ExponentialHistogramPointData> sync = new ArrayList<>();
    for (SafepointSnapshot.OperationDurations op : snapshot.operations()) {
      Attributes attributes = Attributes.of(OPERATION, op.operation());
      if (op.total().count() > 0) {
        total.add(ExponentialHistograms.point(op.total(), attributes, context));
      }
      if (op.timeToSafepoint().count() > 0) {
        sync.add(ExponentialHistograms.point(op.timeToSafepoint(), attributes, context));
      }
    }
    List<MetricData> out = new ArrayList<>(2);
    if (!total.isEmpty()) {
      out.add(ExponentialHistograms.metric(context, SAFEPOINT_DURATION,
          "Duration of safepoints (all Java threads stopped), measured in the kernel.", "s", total));
    }
    if (!sync.isEmpty()) {
      out.add(ExponentialHistograms.metric(context, SAFEPOINT_SYNC_DURATION,
          "Time from a safepoint's request until every Java thread had stopped (time to safepoint).", "s", sync));
    }
    return out;
  }
}
