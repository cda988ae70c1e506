package dev.jvmebpf.agent.otel;

import dev.jvmebpf.otel.console.ConsoleMetricExporter;
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
}
