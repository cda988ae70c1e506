package dev.jvmebpf.agent.otel;

import dev.jvmebpf.agent.AgentConfig;
import dev.jvmebpf.agent.AgentLog;
import dev.jvmebpf.otel.ExportMetrics;
import dev.jvmebpf.otel.KernelMetricProducer;
import dev.jvmebpf.otel.MetricSource;
import io.opentelemetry.sdk.common.Clock;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentSelector;
import io.opentelemetry.sdk.metrics.View;
import io.opentelemetry.sdk.resources.Resource;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The agent's own OpenTelemetry SDK, configured by the SDK's autoconfiguration (so every
 * standard OTEL_* / otel.* setting works) with our overrides on top. It is never registered as
 * the global OpenTelemetry, exports only what our producer produces, and has no shutdown hook
 * of its own: the agent flushes it at exit.
 */
public final class OpenTelemetrySetup {

  /** The running SDK and the health of its exporter. */
  /** @param resource the resource the SDK was given, for the process context */
  public record Telemetry(OpenTelemetrySdk sdk, ExportHealth exportHealth, String destination, Resource resource) {}

  private OpenTelemetrySetup() {}

  /**
   * The producer the families' sources join: cumulative, or delta when the OTLP temporality
   * preference says so.
   */
  public static KernelMetricProducer producer(AgentConfig config, AgentLog log, String version) {
    return new KernelMetricProducer(InstrumentationScopeInfo.builder("jvm-ebpf-agent").setVersion(version).build(),
        cumulative(config) ? AggregationTemporality.CUMULATIVE : AggregationTemporality.DELTA,
        Clock.getDefault(), (source, e) -> log.debug("reading " + source.name() + " failed: " + e));
  }

  /**
   * Settings under the user's: spans go where the metrics go (the traces exporter is the metrics
   * exporter unless otel.traces.exporter says otherwise), no logs; and with cumulative temporality (the
   * default) the OTLP exporter does not retry, because the next export carries every count
   * anyway, while retries (about 8 s of back-off) held a refused connection's final export, and
   * so the application's exit, for seconds. No propagators: this SDK is the agent's own, never
   * global, and carries no context across processes (loading W3C's cost each start about 5 ms).
   */
  static Map<String, String> defaults(AgentConfig config) {
    Map<String, String> defaults = new java.util.LinkedHashMap<>();
    defaults.put("otel.traces.exporter", metricsExporter(config));
    defaults.put("otel.logs.exporter", "none");
    defaults.put("otel.propagators", "none");
    if (cumulative(config)) {
      defaults.put("otel.java.exporter.otlp.retry.disabled", "true");
    }
    return defaults;
  }

  private static String metricsExporter(AgentConfig config) {
    return config.openTelemetry("otel.metrics.exporter").orElse("otlp");
  }

  /** Whether the SDK will export spans: its traces exporter, ours by default, is not none. */
  public static boolean tracesExported(AgentConfig config) {
    return !config.openTelemetry("otel.traces.exporter").orElse(metricsExporter(config)).trim()
        .equalsIgnoreCase("none");
  }

  private static boolean cumulative(AgentConfig config) {
    return config.openTelemetry("otel.exporter.otlp.metrics.temporality.preference").orElse("cumulative")
        .toLowerCase(Locale.ROOT).equals("cumulative");
  }

  public static Telemetry create(AgentConfig config, KernelMetricProducer producer, AgentLog log, String version) {
    String destination = destination(config);
    AtomicReference<ExportHealth> health = new AtomicReference<>();
    AtomicReference<Resource> resource = new AtomicReference<>(Resource.getDefault());
    OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
        .disableShutdownHook()
        .setServiceClassLoader(OpenTelemetrySetup.class.getClassLoader())
        .addPropertiesSupplier(() -> defaults(config))
        .addPropertiesCustomizer(properties -> config.openTelemetryOverrides())
        .addResourceCustomizer((detected, properties) -> {
          Resource ours = AgentResource.customize(detected, version);
          resource.set(ours);
          return ours;
        })
        // Our metrics come from the producer alone. The SDK's instruments are only its exporters'
        // self-telemetry, which would be noise under a relocated scope name: dropped.
        .addMeterProviderCustomizer((builder, properties) -> builder.registerMetricProducer(producer)
            .registerView(InstrumentSelector.builder().setName("*").build(),
                View.builder().setAggregation(Aggregation.drop()).build()))
        .addMetricExporterCustomizer((exporter, properties) -> {
          ExportHealth wrapped = new ExportHealth(exporter, log, destination);
          health.set(wrapped);
          return wrapped;
        })
        .build()
        .getOpenTelemetrySdk();
    ExportHealth exportHealth = health.get();
    if (exportHealth != null) {
      producer.addSource(MetricSource.of("export", Clock.getDefault().now(),
          context -> List.of(ExportMetrics.failures(context, exportHealth.failures()))));
    }
    return new Telemetry(sdk, exportHealth, destination, resource.get());
  }

  /** "otlp grpc http://localhost:4317", "console", ...: for the status line. */
  static String destination(AgentConfig config) {
    String exporter = config.openTelemetry("otel.metrics.exporter").orElse("otlp");
    if (!exporter.equals("otlp")) {
      return exporter;
    }
    String protocol = config.openTelemetry("otel.exporter.otlp.metrics.protocol")
        .or(() -> config.openTelemetry("otel.exporter.otlp.protocol")).orElse("grpc");
    String endpoint = config.openTelemetry("otel.exporter.otlp.metrics.endpoint")
        .or(() -> config.openTelemetry("otel.exporter.otlp.endpoint"))
        .orElse(protocol.equals("grpc") ? "http://localhost:4317" : "http://localhost:4318");
    return "otlp " + protocol + " " + endpoint;
  }
}
