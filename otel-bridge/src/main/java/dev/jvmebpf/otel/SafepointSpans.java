package dev.jvmebpf.otel;

import dev.jvmebpf.bpf.safepoint.SafepointEvent;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import java.util.concurrent.TimeUnit;

/**
 * A safepoint over the threshold as a span {@code "Safepoint " + jvm.safepoint.operation}, with
 * {@code jvm.safepoint.operation} and its time to safepoint in seconds,
 * {@code jvm.safepoint.sync.duration} (when HotSpot's own timestamps could be read). Every Java
 * thread waits for it: each is the root of its own trace.
 */
public final class SafepointSpans {

  public static final AttributeKey<Double> SYNC_DURATION = AttributeKey.doubleKey("jvm.safepoint.sync.duration");

  private SafepointSpans() {}

  public static Span emit(Tracer tracer, KernelClock clock, SafepointEvent event) {
    SpanBuilder builder = tracer.spanBuilder("Safepoint " + event.operation())
        .setNoParent()
        .setSpanKind(SpanKind.INTERNAL)
        .setStartTimestamp(clock.epochNanos(event.startNanos()), TimeUnit.NANOSECONDS)
        .setAttribute(SafepointMetrics.OPERATION, event.operation());
    if (event.syncNanos() >= 0) {
      builder.setAttribute(SYNC_DURATION, event.syncNanos() / 1e9);
    }
    Span span = builder.startSpan();
    span.end(clock.epochNanos(event.endNanos()), TimeUnit.NANOSECONDS);
    return span;
  }
}
