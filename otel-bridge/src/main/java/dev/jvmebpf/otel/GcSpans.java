package dev.jvmebpf.otel;

import dev.jvmebpf.bpf.gc.GcEvent;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import java.util.concurrent.TimeUnit;

/**
 * A GC event as a span: one per collection (or per pause of ZGC's and Shenandoah's pause
 * collectors), named {@code "GC " + jvm.gc.name}, with {@code jvm.gc.name} and
 * {@code jvm.gc.action} as on {@code jvm.gc.duration}. A collection is the whole JVM's, not a
 * request's: each span is the root of its own trace.
 */
public final class GcSpans {

  /** Whether the span is a pause of a concurrent collector rather than a collection. */
  public static final AttributeKey<Boolean> PAUSE = AttributeKey.booleanKey("jvm.gc.pause");

  private GcSpans() {}

  public static Span emit(Tracer tracer, KernelClock clock, GcEvent event) {
    Span span = tracer.spanBuilder("GC " + event.collector())
        .setNoParent()
        .setSpanKind(SpanKind.INTERNAL)
        .setStartTimestamp(clock.epochNanos(event.startNanos()), TimeUnit.NANOSECONDS)
        .setAttribute(GcMetrics.GC_NAME, event.collector())
        .setAttribute(GcMetrics.GC_ACTION, event.action())
        .setAttribute(PAUSE, event.pause())
        .startSpan();
    span.end(clock.epochNanos(event.endNanos()), TimeUnit.NANOSECONDS);
    return span;
  }
}
