package dev.jvmebpf.bench;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.samplers.Sampler;

/**
 * An application with its own OpenTelemetry SDK (an older version than the agent's, as
 * applications have), measuring in a tight loop what its tracing costs it, as the application
 * would see it:
 *
 * <pre>
 * CONTEXT_NS &lt;ns to make a span current and close the scope: two context changes&gt;
 * SPAN_NS &lt;ns to start a span, make it current, close the scope and end the span&gt;
 * </pre>
 *
 * With an agent, it first waits until the agent says it is on, then gives it warmMillis (our
 * writer looks for the application's context storage when it starts and then once a second).
 * args: warmMillis measureMillis
 */
public final class ContextWorkload {

  static volatile Object sink;

  public static void main(String[] args) throws Exception {
    long warm = Long.parseLong(args[0]);
    long measure = Long.parseLong(args[1]);
    Tracer tracer = SdkTracerProvider.builder().setSampler(Sampler.alwaysOn()).build().get("bench");
    Span held = tracer.spanBuilder("held").startSpan();
    awaitAgent();
    long warmEnd = System.nanoTime() + warm * 1_000_000L;
    while (System.nanoTime() < warmEnd) {
      contextChanges(held, 10_000);
      spans(tracer, 1_000);
    }
    System.out.println("CONTEXT_NS " + timed(() -> contextChanges(held, 100_000), 100_000, measure / 2));
    System.out.println("SPAN_NS " + timed(() -> spans(tracer, 10_000), 10_000, measure / 2));
    held.end();
  }

  private static void awaitAgent() throws InterruptedException {
    if (System.getProperty("jvm.ebpf.agent.premain.nanos") == null) {
      return;
    }
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      String status = System.getProperty("jvm.ebpf.agent.status");
      if (status != null && !status.equals("starting")) {
        return;
      }
      Thread.sleep(5);
    }
  }

  private static void contextChanges(Span span, int n) {
    Context context = Context.current().with(span);
    for (int i = 0; i < n; i++) {
      try (Scope scope = context.makeCurrent()) {
        sink = scope;
      }
    }
  }

  private static void spans(Tracer tracer, int n) {
    for (int i = 0; i < n; i++) {
      Span span = tracer.spanBuilder("op").startSpan();
      try (Scope scope = span.makeCurrent()) {
        sink = scope;
      } finally {
        span.end();
      }
    }
  }

  /** Nanoseconds per operation of {@code batch} (ops operations) repeated for about millis. */
  private static double timed(Runnable batch, int ops, long millis) {
    long start = System.nanoTime();
    long end = start + millis * 1_000_000L;
    long done = 0;
    long now;
    do {
      batch.run();
      done += ops;
      now = System.nanoTime();
    } while (now < end);
    return (double) (now - start) / done;
  }
}
