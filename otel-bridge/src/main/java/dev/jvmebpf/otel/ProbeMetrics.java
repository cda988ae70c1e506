package dev.jvmebpf.otel;

import static io.opentelemetry.api.common.AttributeKey.stringKey;

import dev.jvmebpf.bpf.ProbeStats;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.SumData;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The agent's own telemetry, one series per BPF program ({@code probe}):
 * {@code jvm.ebpf.probe.events}, {@code .dropped}, {@code .errors}, {@code .overflow}
 * (events whose attribute was folded into the bounded set's "other" value) and {@code .spans}
 * (events sent to the span ring buffer: slow or rare ones only). Counters.
 */
public final class ProbeMetrics {

  public static final String EVENTS = "jvm.ebpf.probe.events";
  public static final String DROPPED = "jvm.ebpf.probe.dropped";
  public static final String ERRORS = "jvm.ebpf.probe.errors";
  public static final String OVERFLOW = "jvm.ebpf.probe.overflow";
  public static final String SPANS = "jvm.ebpf.probe.spans";
  public static final AttributeKey<String> PROBE = stringKey("probe");

  private ProbeMetrics() {}

  public static List<MetricData> of(List<ProbeStats> stats, MetricContext context) {
    if (stats.isEmpty()) {
      return List.of();
    }
    return List.of(
        counter(context, EVENTS, "Times a probe's program ran for this JVM.", stats, ProbeStats::events),
        counter(context, DROPPED, "Events a probe lost because a map or ring buffer was full.", stats,
            ProbeStats::dropped),
        counter(context, ERRORS, "Events a probe could not read (e.g. begun before the agent attached).", stats,
            ProbeStats::errors),
        counter(context, OVERFLOW, "Events whose attribute value exceeded the cardinality bound and was "
            + "counted as \"other\".", stats, ProbeStats::overflow),
        counter(context, SPANS, "Events a probe sent to the span ring buffer (slow or rare ones only).", stats,
            ProbeStats::spans));
  }

  private static MetricData counter(MetricContext context, String name, String description, List<ProbeStats> stats,
      ToLongFunction<ProbeStats> value) {
    List<LongPointData> points = new ArrayList<>(stats.size());
    for (ProbeStats s : stats) {
      points.add(LongPointData.create(context.startEpochNanos(), context.epochNanos(),
          Attributes.of(PROBE, s.probe()), value.applyAsLong(s)));
    }
    return new KernelMetricData(context.resource(), context.scope(), name, description, "{event}",
        MetricDataType.LONG_SUM, SumData.createLongSumData(true, AggregationTemporality.CUMULATIVE, points));
  }
}
