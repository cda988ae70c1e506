package dev.jvmebpf.otel;

import static io.opentelemetry.api.common.AttributeKey.stringKey;

import dev.jvmebpf.bpf.nativealloc.NativeAllocationSnapshot;
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
 * Native allocation metrics (opt-in; names are ours), by {@code native.allocator}
 * ("malloc": malloc, calloc, realloc, posix_memalign; "mmap"):
 * {@code process.native.allocation.size} (exponential histogram, By, sizes of the blocks
 * allocated) and {@code process.native.memory.outstanding} (gauge, By, bytes allocated since the
 * agent started and not freed yet).
 */
public final class NativeAllocationMetrics {

  public static final String ALLOCATION_SIZE = "process.native.allocation.size";
  public static final String OUTSTANDING = "process.native.memory.outstanding";
  public static final AttributeKey<String> ALLOCATOR = stringKey("native.allocator");

  private NativeAllocationMetrics() {}

  public static List<MetricData> of(NativeAllocationSnapshot snapshot, MetricContext context) {
    List<MetricData> out = new ArrayList<>(2);
    List<ExponentialHistogramPointData> sizes = new ArrayList<>();
    List<LongPointData> outstanding = new ArrayList<>();
    for (NativeAllocationSnapshot.AllocatorUsage a : snapshot.allocators()) {
      Attributes attributes = Attributes.of(ALLOCATOR, a.allocator());
      if (a.sizes().count() > 0) {
        sizes.add(ExponentialHistograms.point(a.sizes(), attributes, context));
      }
      outstanding.add(LongPointData.create(context.startEpochNanos(), context.epochNanos(), attributes,
          a.outstandingBytes()));
    }
    if (!sizes.isEmpty()) {
      out.add(ExponentialHistograms.metric(context, ALLOCATION_SIZE,
          "Sizes of the native memory blocks allocated through libc.", "By", sizes));
    }
    out.add(new KernelMetricData(context.resource(), context.scope(), OUTSTANDING,
        "Native memory allocated through libc since the agent started and not freed yet.", "By",
        MetricDataType.LONG_GAUGE, GaugeData.createLongGaugeData(outstanding)));
    return out;
  }
}
