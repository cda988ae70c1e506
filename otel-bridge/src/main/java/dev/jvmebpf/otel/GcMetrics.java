package dev.jvmebpf.otel;

import static io.opentelemetry.api.common.AttributeKey.stringKey;

import dev.jvmebpf.bpf.gc.GcSnapshot;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.GaugeData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import java.util.ArrayList;
import java.util.List;

/**
 * GC metrics, with the semantic conventions' names, units and attributes:
 * {@code jvm.gc.duration} (exponential histogram, s, by {@code jvm.gc.name} and
 * {@code jvm.gc.action}) and {@code jvm.memory.used_after_last_gc} (gauge, By, by
 * {@code jvm.memory.pool.name} and {@code jvm.memory.type}).
 */
public final class GcMetrics {

  public static final String GC_DURATION = "jvm.gc.duration";
  public static final String MEMORY_USED_AFTER_LAST_GC = "jvm.memory.used_after_last_gc";
  public static final AttributeKey<String> GC_NAME = stringKey("jvm.gc.name");
  public static final AttributeKey<String> GC_ACTION = stringKey("jvm.gc.action");
  public static final AttributeKey<String> POOL_NAME = stringKey("jvm.memory.pool.name");
  public static final AttributeKey<String> MEMORY_TYPE = stringKey("jvm.memory.type");

  private GcMetrics() {}

  /** Collectors that have not collected yet and pools not yet reported are left out. */
  public static List<MetricData> of(GcSnapshot snapshot, MetricContext context) {
    List<MetricData> out = new ArrayList<>(2);
    List<ExponentialHistogramPointData> durations = new ArrayList<>();
    for (GcSnapshot.CollectorDurations c : snapshot.collectors()) {
      if (c.durations().count() == 0) {
        continue;
      }
      durations.add(ExponentialHistograms.point(c.durations(),
          Attributes.of(GC_NAME, c.name(), GC_ACTION, c.action()), context));
    }
    if (!durations.isEmpty()) {
      out.add(ExponentialHistograms.metric(context, GC_DURATION,
          "Duration of JVM garbage collection actions, measured in the kernel.", "s", durations));
    }
    List<LongPointData> pools = new ArrayList<>();
    for (GcSnapshot.PoolUsage p : snapshot.pools()) {
      pools.add(LongPointData.create(context.startEpochNanos(), context.epochNanos(),
          Attributes.of(POOL_NAME, p.pool(), MEMORY_TYPE, p.type()), p.usedBytes()));
    }
    if (!pools.isEmpty()) {
      out.add(new KernelMetricData(context.resource(), context.scope(), MEMORY_USED_AFTER_LAST_GC,
          "Memory used in a pool right after the most recent garbage collection of that pool.", "By",
          MetricDataType.LONG_GAUGE, GaugeData.createLongGaugeData(pools)));
    }
    return out;
  }
}
