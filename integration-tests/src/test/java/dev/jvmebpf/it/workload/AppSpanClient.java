package dev.jvmebpf.it.workload;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;

/**
 * Runs in the target JVM: an application with its own OpenTelemetry SDK (of the version on its
 * class path, not the agent's) that makes {@code exchanges} 100-byte request and reply exchanges
 * with the test's slow server, the even ones each inside a span of its own made current on the
 * thread, the odd ones outside any. Its context storage is in use before the agent is on (so
 * the agent must rewrite a class already loaded). Prints {@code AGENT <status>}, then per
 * exchange {@code EXCHANGE <i>\t<trace id or ->\t<span id or ->}. With an endpoint, its SDK
 * exports its spans there itself (OTLP over HTTP, its own exporter), as service {@link #SERVICE}.
 *
 * <p>args: port exchanges [OTLP traces endpoint]
 */
public final class AppSpanClient {

  public static final String SERVICE = "app-span-client";

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int exchanges = Integer.parseInt(args[1]);
    Context.current(); // the storage class loads now
    var builder = SdkTracerProvider.builder()
        .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), SERVICE)));
    if (args.length > 2) {
      builder.addSpanProcessor(SimpleSpanProcessor.create(OtlpHttpSpanExporter.builder().setEndpoint(args[2]).build()));
    }
    SdkTracerProvider provider = builder.build();
    Tracer tracer = provider.get("app");
    System.out.println("AGENT " + Agent.awaitStatus());
    StringBuilder out = new StringBuilder();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      InputStream in = s.getInputStream();
      OutputStream os = s.getOutputStream();
      byte[] message = new byte[100];
      for (int i = 0; i < exchanges; i++) {
        if (i % 2 == 0) {
          Span span = tracer.spanBuilder("request " + i).startSpan();
          try (Scope scope = span.makeCurrent()) {
            SlowReplyClient.exchange(i, in, os, message, out);
          } finally {
            span.end();
          }
          out.append("EXCHANGE ").append(i).append('\t').append(span.getSpanContext().getTraceId()).append('\t')
              .append(span.getSpanContext().getSpanId()).append('\n');
        } else {
          SlowReplyClient.exchange(i, in, os, message, out);
          out.append("EXCHANGE ").append(i).append("\t-\t-\n");
        }
      }
    }
    provider.close();
    System.out.print(out);
  }
}
