package dev.jvmebpf.otel.console;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/**
 * Exporter {@code console} for spans: one line per span for a human, e.g.
 * {@code span 12:00:01.234567 +3.456 ms GC G1 Young Generation [jvm.gc.name=G1 Young Generation, ...] trace 4bf9...}.
 */
public final class ConsoleSpanExporter implements SpanExporter {

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());

  private final PrintStream out;
  private volatile boolean shutdown;

  public ConsoleSpanExporter(PrintStream out) {
    this.out = out;
  }

  /** The line for one span. */
  public static String line(SpanData span) {
    StringBuilder text = new StringBuilder("span ")
        .append(TIME.format(Instant.ofEpochSecond(0, span.getStartEpochNanos())))
        .append(String.format(Locale.ROOT, " +%.3f ms ", (span.getEndEpochNanos() - span.getStartEpochNanos()) / 1e6))
        .append(span.getName());
    if (span.getStatus().getStatusCode() != io.opentelemetry.api.trace.StatusCode.UNSET) {
      text.append(' ').append(span.getStatus().getStatusCode());
    }
    StringBuilder attributes = new StringBuilder();
    for (Map.Entry<AttributeKey<?>, Object> a : span.getAttributes().asMap().entrySet()) {
      attributes.append(attributes.length() == 0 ? "" : ", ").append(a.getKey().getKey()).append('=')
          .append(a.getValue());
    }
    text.append(" [").append(attributes).append("] trace ").append(span.getTraceId());
    if (span.getParentSpanContext().isValid()) {
      text.append(" parent ").append(span.getParentSpanId());
    }
    return text.toString();
  }

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    if (shutdown) {
      return CompletableResultCode.ofFailure();
    }
    StringBuilder text = new StringBuilder();
    for (SpanData span : spans) {
      text.append(line(span)).append('\n');
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
