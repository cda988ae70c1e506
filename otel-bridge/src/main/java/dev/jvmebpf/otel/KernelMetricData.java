package dev.jvmebpf.otel;

import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.Data;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.resources.Resource;

/**
 * A metric produced from kernel aggregates. The SDK offers public factories for points and
 * data but not for MetricData itself (only an internal class), hence this small immutable
 * implementation.
 */
public final class KernelMetricData implements MetricData {

  private final Resource resource;
  private final InstrumentationScopeInfo scope;
  private final String name;
  private final String description;
  private final String unit;
  private final MetricDataType type;
  private final Data<?> data;

  public KernelMetricData(Resource resource, InstrumentationScopeInfo scope, String name, String description,
      String unit, MetricDataType type, Data<?> data) {
    this.resource = resource;
    this.scope = scope;
    this.name = name;
    this.description = description;
    this.unit = unit;
    this.type = type;
    this.data = data;
  }

  /** The same metric with other data (e.g. its delta). */
  public static KernelMetricData withData(MetricData metric, Data<?> data) {
    return new KernelMetricData(metric.getResource(), metric.getInstrumentationScopeInfo(), metric.getName(),
        metric.getDescription(), metric.getUnit(), metric.getType(), data);
  }

  @Override
  public Resource getResource() {
    return resource;
  }

  @Override
  public InstrumentationScopeInfo getInstrumentationScopeInfo() {
    return scope;
  }

  @Override
  public String getName() {
    return name;
  }

  @Override
  public String getDescription() {
    return description;
  }

  @Override
  public String getUnit() {
    return unit;
  }

  @Override
  public MetricDataType getType() {
    return type;
  }

  @Override
  public Data<?> getData() {
    return data;
  }

  @Override
  public String toString() {
    return "KernelMetricData{name=" + name + ", type=" + type + ", data=" + data + "}";
  }
}
