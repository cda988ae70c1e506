package dev.jvmebpf.agent.otel;

import dev.jvmebpf.otel.console.ConsoleMetricExporter;
import dev.jvmebpf.otel.console.ConsoleSpanExporter;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.metrics.ConfigurableMetricExporterProvider;
import io.opentelemetry.sdk.metrics.export.MetricExporter;

/** {@code otel.metrics.exporter=console}: human-readable histograms on standard output. */
public final class ConsoleExporterProvider implements ConfigurableMetricExporterProvider {

  @Override
  public MetricExporter createExporter(ConfigProperties config) {
    return new ConsoleMetricExporter(System.out);
  }

  @Override
  public String getName() {
    return "console";
  }

  /** {@code otel.traces.exporter=console}: one line per span on standard output. */
  public static final class Spans implements ConfigurableSpanExporterProvider {
    @Override
    public SpanExporter createExporter(ConfigProperties config) {
      return new ConsoleSpanExporter(System.out);
    }

    @Override
    public String getName() {
      return "console";
    }
  }
}
