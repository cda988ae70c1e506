package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.jvmebpf.it.workload.HttpUrlClient;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Our thread context writer under the OpenTelemetry Java agent (2.31.0 from Maven Central), whose
 * context storage is a relocated copy on the bootstrap class path: an application without any
 * OpenTelemetry of its own ({@link HttpUrlClient}) calls, through {@code HttpURLConnection}, a server
 * in this test's JVM that answers after 200 ms. Each of our receive spans of those replies is a
 * child of the Java agent's HTTP client span of that request: same trace id, that span as parent,
 * inside its time. Oracle: the Java agent's own spans, which its own exporter sends to this test's
 * receiver (OTLP over HTTP) while ours sends over gRPC. The application's output and exit status
 * are those of a run without agents.
 */
class OtelJavaAgentContextIT extends ReceiverTest {

  static final int REQUESTS = 4;
  static final long SLOW_MILLIS = 200;
  static final String SERVICE = "http-url-client";
  /**
   * How far the Java agent's clock and ours (kernel time converted to epoch time) may differ: its
   * SDK anchors each trace's clock with an epoch reading and a nanoTime reading, which a busy
   * 2-core machine can separate by milliseconds (6 ms seen with 1,250 virtual threads).
   */
  static final long CLOCKS_NANOS = 20_000_000;

  @ParameterizedTest(name = "JDK {0}, socket.timing={1}")
  @CsvSource({"17, libc", "25, libc", "17, jdk", "25, jdk"})
  void receiveSpansAreChildrenOfTheJavaAgentsClientSpans(int jdk, String timing) throws Exception {
    receiver.clear();
    var home = Fixtures.jdk(jdk);
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/slow/", exchange -> {
      try {
        Thread.sleep(SLOW_MILLIS);
        byte[] body = ("slow " + exchange.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        exchange.close();
      }
    });
    server.start();
    try {
      int port = server.getAddress().getPort();
      String base = "http://127.0.0.1:" + port;
      TargetJvm.Result plain = TargetJvm.on(home).run(Duration.ofSeconds(60), HttpUrlClient.class, base,
          Integer.toString(REQUESTS));
      assertEquals(0, plain.exitCode(), plain.stderr());
      assertEquals(REQUESTS, plain.values("RESPONSE").size(), plain.stdout());

      // The Java agent first, as its documentation has it; ours after it. Both read otel.* system
      // properties and OTEL_* variables: the Java agent's settings are in its own configuration
      // file, so that none of them (metrics exporter none, ...) applies to ours.
      Path settings = Files.createTempFile("jeb-it-otel-javaagent-", ".properties");
      TargetJvm.Result both;
      try {
        Files.writeString(settings, String.join("\n", "otel.service.name=" + SERVICE,
            "otel.exporter.otlp.protocol=http/protobuf", "otel.exporter.otlp.endpoint=" + receiver.httpEndpoint(),
            "otel.metrics.exporter=none", "otel.logs.exporter=none", ""));
        both = TargetJvm.on(home)
            .firstJvmArgs("-javaagent:" + Fixtures.otelJavaAgent(), "-Dotel.javaagent.configuration-file=" + settings)
            .withAgent(receiver.agentArguments("grpc") + ",socket.timing=" + timing)
            .run(Duration.ofSeconds(120), HttpUrlClient.class, base, Integer.toString(REQUESTS));
      } finally {
        Files.delete(settings);
      }
      assertEquals(plain.exitCode(), both.exitCode(), both.stderr());
      assertEquals(plain.stdout(), both.stdout(), "the application's output, with both agents");
      assertTrue(both.stderr().lines().anyMatch(l -> l.startsWith("[jvm-ebpf-agent] jvm-ebpf-agent ")
          && l.contains(": eBPF on,")), "our agent on: " + both.stderr());

      // Both agents' data: the Java agent's client spans, our receive spans and metrics.
      List<Span> clients = awaitSpans(() -> receiver.spans(SERVICE).stream()
          .filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT)
          .filter(s -> Otlp.attributes(s.getAttributesList()).getOrDefault("url.full", "").startsWith(base + "/slow/"))
          .sorted(Comparator.comparingLong(Span::getStartTimeUnixNano)).toList());
      List<Span> receives = awaitSpans(() -> receiver.spans().stream()
          .filter(s -> s.getName().equals("socket receive"))
          .filter(s -> Integer.toString(port).equals(Otlp.attributes(s.getAttributesList()).get("network.peer.port")))
          .sorted(Comparator.comparingLong(Span::getStartTimeUnixNano)).toList());
      assertEquals(REQUESTS, clients.size(), "the Java agent's HTTP client spans: " + clients);
      assertEquals(REQUESTS, receives.size(), "our receive spans, one per slow reply: " + receives);
      assertTrue(receiver.received().stream().flatMap(r -> r.request().getResourceMetricsList().stream())
          .map(ResourceMetrics::getResource)
          .anyMatch(r -> "jvm-ebpf-agent".equals(Otlp.attributes(r.getAttributesList()).get("telemetry.distro.name"))),
          "our metrics arrived");

      // The requests are made one after the other: the i-th of each, by start time, belong together.
      for (int i = 0; i < REQUESTS; i++) {
        Span client = clients.get(i);
        Span ours = receives.get(i);
        String name = "request " + i;
        assertEquals(base + "/slow/" + i, Otlp.attributes(client.getAttributesList()).get("url.full"), name);
        assertEquals(client.getTraceId(), ours.getTraceId(), name + ": our receive span in the Java agent's trace");
        assertEquals(client.getSpanId(), ours.getParentSpanId(), name + ": our receive span its client span's child");
        assertTrue(ours.getStartTimeUnixNano() >= client.getStartTimeUnixNano() - CLOCKS_NANOS
            && ours.getEndTimeUnixNano() <= client.getEndTimeUnixNano() + CLOCKS_NANOS,
            name + " from " + client.getStartTimeUnixNano() + " to " + client.getEndTimeUnixNano() + " holds ours from "
                + ours.getStartTimeUnixNano() + " to " + ours.getEndTimeUnixNano());
      }
      System.out.printf("JDK %d socket.timing=%s: %d receive spans, each the child of the Java agent's client span%n",
          jdk, timing, receives.size());
    } finally {
      server.stop(0);
    }
  }

  /**
   * The spans {@code query} finds once they stop changing: both agents export at the application's
   * exit, which the run already waited for; this only lets a request still in flight land (10 s at most).
   */
  private static List<Span> awaitSpans(java.util.function.Supplier<List<Span>> query) throws InterruptedException {
    List<Span> last = query.get();
    for (long deadline = System.nanoTime() + 10_000_000_000L; System.nanoTime() < deadline; ) {
      Thread.sleep(200);
      List<Span> now = query.get();
      if (now.size() == last.size() && now.size() >= REQUESTS) {
        return now;
      }
      last = now;
    }
    return last;
  }
}
