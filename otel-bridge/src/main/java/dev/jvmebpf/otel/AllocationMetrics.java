package dev.jvmebpf.otel;

import static io.opentelemetry.api.common.AttributeKey.stringKey;

import dev.jvmebpf.bpf.heapalloc.AllocationSnapshot;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.SumData;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * Heap allocation metrics (names are ours; the semantic conventions have none for this):
 * <ul>
 *   <li>{@code jvm.allocation.tlab.size}: exponential histogram, By, sizes of new TLABs;
 *   <li>{@code jvm.allocation.outside_tlab.size}: exponential histogram, By, by
 *       {@code jvm.class.name}, sizes of objects allocated outside TLABs (exact);
 *   <li>{@code jvm.allocation.bytes}: counter, By, by {@code thread.name}: heap bytes the threads
 *       allocated, HotSpot's own count (ThreadMXBean.getThreadAllocatedBytes'): the used part of
 *       their TLABs plus their allocations outside TLABs;
 *   <li>{@code jvm.allocation.class.bytes}: counter, By, by {@code jvm.class.name}: the same
 *       bytes by class, estimated: what a thread used of a TLAB counts for the class whose
 *       allocation opened it (outside-TLAB bytes are exact).
 * </ul>
 * Both counters add up to the same total; they are two metrics rather than one with both
 * attributes so that neither sum counts a byte twice and the series stay bounded by the sum,
 * not the product, of the two attribute bounds.
 */
public final class AllocationMetrics {

  public static final String TLAB_SIZE = "jvm.allocation.tlab.size";
  public static final String OUTSIDE_TLAB_SIZE = "jvm.allocation.outside_tlab.size";
  public static final String BYTES = "jvm.allocation.bytes";
  public static final String CLASS_BYTES = "jvm.allocation.class.bytes";
  public static final AttributeKey<String> CLASS_NAME = stringKey("jvm.class.name");
  public static final AttributeKey<String> THREAD_NAME = stringKey("thread.name");

  private AllocationMetrics() {}

  public static List<MetricData> of(AllocationSnapshot snapshot, MetricContext context) {
    List<MetricData> out = new ArrayList<>(4);
    if (snapshot.tlabSizes().count() > 0) {
      out.add(ExponentialHistograms.metric(context, TLAB_SIZE, "Sizes of the TLABs that threads took.", "By",
          List.of(ExponentialHistograms.point(snapshot.tlabSizes(), Attributes.empty(), context))));
    }
    List<ExponentialHistogramPointData> outside = new ArrayList<>();
    for (AllocationSnapshot.ClassAllocation c : snapshot.classes()) {
      if (c.outsideTlabSizes().count() > 0) {
        outside.add(ExponentialHistograms.point(c.outsideTlabSizes(), Attributes.of(CLASS_NAME, c.className()),
            context));
      }
    }
    if (!outside.isEmpty()) {
      out.add(ExponentialHistograms.metric(context, OUTSIDE_TLAB_SIZE,
          "Sizes of the objects allocated outside TLABs, by class.", "By", outside));
    }
    addCounter(out, context, BYTES, "Heap bytes allocated, by thread: the used part of their TLABs plus allocations outside TLABs.",
        snapshot.threads(), t -> Attributes.of(THREAD_NAME, t.threadName()),
        AllocationSnapshot.ThreadAllocation::bytes);
    addCounter(out, context, CLASS_BYTES, "Heap bytes allocated, by class; estimated: a TLAB's used bytes "
        + "count for the class whose allocation opened it.", snapshot.classes(), c -> Attributes.of(CLASS_NAME, c.className()),
        AllocationSnapshot.ClassAllocation::bytes);
    return out;
  }

  private static <T> void addCounter(List<MetricData> out, MetricContext context, String name, String description,
      List<T> items, Function<T, Attributes> attributes, ToLongFunction<T> value) {
    List<LongPointData> points = new ArrayList<>(items.size());
    for (T item : items) {
      long v = value.applyAsLong(item);
      if (v > 0) {
        points.add(LongPointData.create(context.startEpochNanos(), context.epochNanos(), attributes.apply(item), v));
      }
    }
    if (!points.isEmpty()) {
      out.add(new KernelMetricData(context.resource(), context.scope(), name, description, "By",
          MetricDataType.LONG_SUM, SumData.createLongSumData(true, AggregationTemporality.CUMULATIVE, points)));
    }
  }
}
