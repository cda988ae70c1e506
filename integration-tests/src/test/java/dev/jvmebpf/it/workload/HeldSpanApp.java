package dev.jvmebpf.it.workload;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs in the target JVM: an application with its own OpenTelemetry SDK that makes a span
 * current on its main thread and holds it there until the file {@code args[0]} exists (at most
 * 60 s), for a reader outside the process to look at. Prints {@code AGENT <status>}, then
 * {@code HELD <tid>\t<trace id>\t<span id>}.
 */
public final class HeldSpanApp {

  public static void main(String[] args) throws Exception {
    Path release = Path.of(args[0]);
    Context.current(); // the storage class loads before the agent is on
    SdkTracerProvider provider = SdkTracerProvider.builder().build();
    Tracer tracer = provider.get("app");
    System.out.println("AGENT " + Agent.awaitStatus());
    Span span = tracer.spanBuilder("held").startSpan();
    try (Scope scope = span.makeCurrent()) {
      String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
      System.out.println("HELD " + tid + "\t" + span.getSpanContext().getTraceId() + "\t"
          + span.getSpanContext().getSpanId());
      System.out.flush();
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (!Files.exists(release) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    } finally {
      span.end();
    }
    provider.close();
  }
}
