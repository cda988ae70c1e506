package dev.jvmebpf.otel;

import io.opentelemetry.sdk.common.Clock;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.Data;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.GaugeData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.sdk.metrics.export.MetricProducer;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * The agent's {@link MetricProducer}: at each collection it reads every {@link MetricSource}
 * (kernel aggregates, O(buckets) work whatever the event rate), merges metrics of the same name
 * coming from several sources, and hands them to the SDK's reader.
 *
 * <p>Kernel counts are cumulative. With {@link AggregationTemporality#DELTA} the producer
 * subtracts what it reported last time, series by series; a delta histogram then carries no
 * min/max (the kernel keeps only lifetime extremes). Thread-safe.
 */
public final class KernelMetricProducer implements MetricProducer {

  private final InstrumentationScopeInfo scope;
  private final AggregationTemporality temporality;
  private final Clock clock;
  private final BiConsumer<MetricSource, Exception> onFailure;
  private final List<MetricSource> sources = new CopyOnWriteArrayList<>();
  private final DeltaConverter delta = new DeltaConverter();

  public KernelMetricProducer(InstrumentationScopeInfo scope, AggregationTemporality temporality, Clock clock,
      BiConsumer<MetricSource, Exception> onFailure) {
    this.scope = scope;
    this.temporality = temporality;
    this.clock = clock;
    this.onFailure = onFailure;
  }

  public void addSource(MetricSource source) {
    sources.add(source);
  }

  public void removeSource(MetricSource source) {
    sources.remove(source);
  }

  public AggregationTemporality temporality() {
    return temporality;
  }

  @Override
  public synchronized Collection<MetricData> produce(Resource resource) {
    long now = clock.now();
    Map<String, List<MetricData>> byName = new LinkedHashMap<>();
    for (MetricSource source : sources) {
      try {
        for (MetricData metric : source.collect(new MetricContext(resource, scope, source.startEpochNanos(), now))) {
          byName.computeIfAbsent(metric.getName(), n -> new ArrayList<>()).add(metric);
        }
      } catch (Exception e) {
        onFailure.accept(source, e);
      }
    }
    List<MetricData> cumulative = new ArrayList<>(byName.size());
    for (List<MetricData> same : byName.values()) {
      cumulative.add(same.size() == 1 ? same.get(0) : merge(same));
    }
    return temporality == AggregationTemporality.DELTA ? delta.apply(cumulative) : cumulative;
  }

  /** One metric with the points of several metrics of the same name and type. */
  @SuppressWarnings("unchecked")
  static MetricData merge(List<MetricData> same) {
    MetricData first = same.get(0);
    List<PointData> points = new ArrayList<>();
    for (MetricData m : same) {
      if (m.getType() != first.getType()) {
        throw new IllegalStateException(first.getName() + " is produced as both " + first.getType() + " and "
            + m.getType());
      }
      points.addAll(m.getData().getPoints());
    }
    Data<?> data = switch (first.getType()) {
      case EXPONENTIAL_HISTOGRAM -> ExponentialHistogramData.create(
          first.getExponentialHistogramData().getAggregationTemporality(),
          (List<ExponentialHistogramPointData>) (List<?>) points);
      case LONG_SUM -> SumData.createLongSumData(first.getLongSumData().isMonotonic(),
          first.getLongSumData().getAggregationTemporality(), (List<LongPointData>) (List<?>) points);
      case LONG_GAUGE -> GaugeData.createLongGaugeData((List<LongPointData>) (List<?>) points);
      default -> throw new IllegalStateException("cannot merge " + first.getType());
    };
    return KernelMetricData.withData(first, data);
  }
}
