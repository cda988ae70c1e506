package dev.jvmebpf.agent.otel;

import io.opentelemetry.exporter.internal.otlp.metrics.MetricsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.metrics.ConfigurableMetricExporterProvider;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * {@code otel.metrics.exporter=logging-otlp}: each export as one line of OTLP JSON (an
 * ExportMetricsServiceRequest) on standard output, for scripts; {@link Spans} the same for spans. The SDK's own artifact for this
 * name is not published for the SDK version we use, so it is built from the SDK's OTLP
 * marshaler, which gives the same encoding the OTLP exporters send.
 */
public final class OtlpJsonLinesExporter implements MetricExporter {

  private final PrintStream out;

  OtlpJsonLinesExporter(PrintStream out) {
    this.out = out;
  }

  /** The SPI entry. */
  public static final class Provider implements ConfigurableMetricExporterProvider {
    @Override
    public MetricExporter createExporter(ConfigProperties config) {
      return new OtlpJsonLinesExporter(System.out);
    }

    @Override
    public String getName() {
      return "logging-otlp";
    }
  }

  /** {@code otel.traces.exporter=logging-otlp}: each export as one line of an ExportTraceServiceRequest. */
  public static final class Spans implements SpanExporter {
    private final PrintStream out;

    Spans(PrintStream out) {
      this.out = out;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      return print(out, json -> TraceRequestMarshaler.create(spans).writeJsonTo(json));
    }

    @Override
    public CompletableResultCode flush() {
      out.flush();
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  /** The SPI entry for spans. */
  public static final class SpanProvider implements ConfigurableSpanExporterProvider {
    @Override
    public SpanExporter createExporter(ConfigProperties config) {
      return new Spans(System.out);
    }

    @Override
    public String getName() {
      return "logging-otlp";
    }
  }

  private interface JsonWriter {
    void write(ByteArrayOutputStream json) throws IOException;
  }

  private static CompletableResultCode print(PrintStream out, JsonWriter writer) {
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    try {
      writer.write(json);
    } catch (IOException e) {
      return CompletableResultCode.ofExceptionalFailure(e);
    }
    synchronized (out) {
      out.println(json.toString(StandardCharsets.UTF_8));
      out.flush();
    }
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode export(Collection<MetricData> metrics) {
    return print(out, json -> MetricsRequestMarshaler.create(metrics).writeJsonTo(json));
  }

  @Override
  public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
    return AggregationTemporality.CUMULATIVE;
  }

  @Override
  public CompletableResultCode flush() {
    out.flush();
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode shutdown() {
    return CompletableResultCode.ofSuccess();
  }
}
