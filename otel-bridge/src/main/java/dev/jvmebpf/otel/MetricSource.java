package dev.jvmebpf.otel;

import io.opentelemetry.sdk.metrics.data.MetricData;
import java.util.Collection;

/**
 * One family's metrics, read from its aggregates on demand: cumulative since the family
 * started counting, which {@link MetricContext#startEpochNanos()} carries.
 */
public interface MetricSource {

  /** Short name for messages, e.g. "gc". */
  String name();

  /** When this source started counting, in epoch nanoseconds. */
  long startEpochNanos();

  /** Current cumulative metrics; an exception skips this source for this collection only. */
  Collection<MetricData> collect(MetricContext context) throws Exception;

  /** Reads metrics for a context; may fail. */
  @FunctionalInterface
  interface Collector {
    Collection<MetricData> collect(MetricContext context) throws Exception;
  }

  static MetricSource of(String name, long startEpochNanos, Collector collector) {
    return new MetricSource() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public long startEpochNanos() {
        return startEpochNanos;
      }

      @Override
      public Collection<MetricData> collect(MetricContext context) throws Exception {
        return collector.collect(context);
      }
    };
  }
}
