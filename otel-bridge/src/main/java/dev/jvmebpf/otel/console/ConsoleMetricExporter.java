package dev.jvmebpf.otel.console;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Exporter {@code console}: prints each collection for a human, histograms as bar charts in
 * the style of bpftrace's {@code hist()}. Output goes to the stream given (standard output
 * for the agent), one block per export.
 */
public final class ConsoleMetricExporter implements io.opentelemetry.sdk.metrics.export.MetricExporter {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

  private final PrintStream out;
  private volatile boolean shutdown;

  public ConsoleMetricExporter(PrintStream out) {
    this.out = out;
  }

  @Override
  public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
    return AggregationTemporality.CUMULATIVE;
  }

  @Override
  public CompletableResultCode export(Collection<MetricData> metrics) {
    if (shutdown) {
      return CompletableResultCode.ofFailure();
    }
    List<MetricData> sorted = metrics.stream().sorted(Comparator.comparing(MetricData::getName)).toList();
    StringBuilder text = new StringBuilder();
    long epochNanos = sorted.stream().flatMap(m -> m.getData().getPoints().stream())
        .mapToLong(p -> p.getEpochNanos()).max().orElse(System.currentTimeMillis() * 1_000_000L);
    text.append("=== jvm-ebpf-agent metrics at ")
        .append(TIME.format(Instant.ofEpochSecond(0, epochNanos))).append(" ===\n");
    for (MetricData metric : sorted) {
      ConsoleRendering.render(metric, text);
    }
    synchronized (out) {
      out.print(text);
      out.flush();
    }
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode flush() {
    out.flush();
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode shutdown() {
    shutdown = true;
    return CompletableResultCode.ofSuccess();
  }
}
