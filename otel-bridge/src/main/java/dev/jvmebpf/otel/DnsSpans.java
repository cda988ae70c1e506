package dev.jvmebpf.otel;

import dev.jvmebpf.bpf.dns.DnsEvent;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import java.util.concurrent.TimeUnit;

/**
 * A slow or failed name lookup as a span {@code DNS lookup}, kind client, with
 * {@code dns.question.name} and, when it failed, {@code error.type} (getaddrinfo's EAI_* code)
 * and status ERROR.
 */
public final class DnsSpans {

  public static final String NAME = "DNS lookup";

  private DnsSpans() {}

  public static Span emit(Tracer tracer, KernelClock clock, DnsEvent event) {
    Span span = KernelSpans.withParentOf(tracer.spanBuilder(NAME), event)
        .setSpanKind(SpanKind.CLIENT)
        .setStartTimestamp(clock.epochNanos(event.startNanos()), TimeUnit.NANOSECONDS)
        .setAttribute(DnsMetrics.QUESTION_NAME, event.name())
        .startSpan();
    if (event.errorType() != null) {
      span.setAttribute(DnsMetrics.ERROR_TYPE, event.errorType());
      span.setStatus(StatusCode.ERROR, event.errorType());
    }
    span.end(clock.epochNanos(event.endNanos()), TimeUnit.NANOSECONDS);
    return span;
  }
}
