package dev.jvmebpf.otel;

import dev.jvmebpf.bpf.socket.SocketEvent;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import java.util.concurrent.TimeUnit;

/**
 * A slow socket call as a span {@code socket receive} or {@code socket transmit}, and a slow or
 * failed connect as {@code socket connect} (kind client), with the attributes of the socket
 * metrics: {@code network.peer.address}, {@code network.peer.port}, {@code network.transport},
 * {@code network.io.direction}, {@code error.type} (then status ERROR), and the bytes a call moved.
 */
public final class SocketSpans {

  public static final AttributeKey<Long> BYTES = AttributeKey.longKey("jvm.socket.io.bytes");

  private SocketSpans() {}

  public static Span emit(Tracer tracer, KernelClock clock, SocketEvent event) {
    SpanBuilder builder = KernelSpans.withParentOf(
        tracer.spanBuilder(event.connect() ? "socket connect" : "socket " + event.direction()), event)
        .setSpanKind(event.connect() ? SpanKind.CLIENT : SpanKind.INTERNAL)
        .setStartTimestamp(clock.epochNanos(event.startNanos()), TimeUnit.NANOSECONDS)
        .setAttribute(SocketMetrics.TRANSPORT, event.peer().transport());
    if (!event.peer().address().isEmpty()) {
      builder.setAttribute(SocketMetrics.PEER_ADDRESS, event.peer().address());
    }
    if (event.peer().port() != 0) {
      builder.setAttribute(SocketMetrics.PEER_PORT, (long) event.peer().port());
    }
    if (!event.connect()) {
      builder.setAttribute(SocketMetrics.DIRECTION, event.direction());
      if (event.errorType() == null) {
        builder.setAttribute(BYTES, event.bytes());
      }
    }
    Span span = builder.startSpan();
    if (event.errorType() != null) {
      span.setAttribute(SocketMetrics.ERROR_TYPE, event.errorType());
      span.setStatus(StatusCode.ERROR, event.errorType());
    }
    span.end(clock.epochNanos(event.endNanos()), TimeUnit.NANOSECONDS);
    return span;
  }
}
