package dev.jvmebpf.it;

import com.sun.net.httpserver.HttpServer;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

/**
 * An OTLP metrics and traces receiver on loopback speaking both protocols the agent can use: gRPC
 * (opentelemetry.proto.collector.metrics.v1.MetricsService/Export) and HTTP/protobuf
 * (POST /v1/metrics). Requests are decoded with the official OpenTelemetry proto classes.
 */
final class OtlpReceiver implements AutoCloseable {

  /** A received request and the protocol it came by. */
  record Received(String protocol, ExportMetricsServiceRequest request) {}

  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final List<ExportTraceServiceRequest> traces = new CopyOnWriteArrayList<>();
  private final HttpServer http;
  private final Server grpc;

  OtlpReceiver() throws IOException {
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext("/v1/metrics", exchange -> {
      try (InputStream body = exchange.getRequestBody()) {
        InputStream in = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
            ? new GZIPInputStream(body) : body;
        received.add(new Received("http/protobuf", ExportMetricsServiceRequest.parseFrom(in.readAllBytes())));
        byte[] response = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
        exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, response.length == 0 ? -1 : response.length);
        exchange.getResponseBody().write(response);
      } finally {
        exchange.close();
      }
    });
    http.createContext("/v1/traces", exchange -> {
      try (InputStream body = exchange.getRequestBody()) {
        InputStream in = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
            ? new GZIPInputStream(body) : body;
        traces.add(ExportTraceServiceRequest.parseFrom(in.readAllBytes()));
        byte[] response = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
        exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, response.length == 0 ? -1 : response.length);
        exchange.getResponseBody().write(response);
      } finally {
        exchange.close();
      }
    });
    http.start();

    MethodDescriptor<ExportMetricsServiceRequest, ExportMetricsServiceResponse> export =
        MethodDescriptor.<ExportMetricsServiceRequest, ExportMetricsServiceResponse>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("opentelemetry.proto.collector.metrics.v1.MetricsService/Export")
            .setRequestMarshaller(ProtoUtils.marshaller(ExportMetricsServiceRequest.getDefaultInstance()))
            .setResponseMarshaller(ProtoUtils.marshaller(ExportMetricsServiceResponse.getDefaultInstance()))
            .build();
    ServerServiceDefinition service = ServerServiceDefinition
        .builder("opentelemetry.proto.collector.metrics.v1.MetricsService")
        .addMethod(export, ServerCalls.asyncUnaryCall((request, response) -> {
          received.add(new Received("grpc", request));
          response.onNext(ExportMetricsServiceResponse.getDefaultInstance());
          response.onCompleted();
        }))
        .build();
    MethodDescriptor<ExportTraceServiceRequest, ExportTraceServiceResponse> exportTraces =
        MethodDescriptor.<ExportTraceServiceRequest, ExportTraceServiceResponse>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("opentelemetry.proto.collector.trace.v1.TraceService/Export")
            .setRequestMarshaller(ProtoUtils.marshaller(ExportTraceServiceRequest.getDefaultInstance()))
            .setResponseMarshaller(ProtoUtils.marshaller(ExportTraceServiceResponse.getDefaultInstance()))
            .build();
    ServerServiceDefinition traceService = ServerServiceDefinition
        .builder("opentelemetry.proto.collector.trace.v1.TraceService")
        .addMethod(exportTraces, ServerCalls.asyncUnaryCall((request, response) -> {
          traces.add(request);
          response.onNext(ExportTraceServiceResponse.getDefaultInstance());
          response.onCompleted();
        }))
        .build();
    grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service)
        .addService(traceService).build().start();
  }

  String httpEndpoint() {
    return "http://127.0.0.1:" + http.getAddress().getPort();
  }

  int grpcPort() {
    return grpc.getPort();
  }

  String grpcEndpoint() {
    return "http://127.0.0.1:" + grpc.getPort();
  }

  /** Agent arguments that export to this receiver by {@code protocol}, exporting only at exit. */
  String agentArguments(String protocol) {
    return "protocol=" + protocol + ",endpoint=" + (protocol.equals("grpc") ? grpcEndpoint() : httpEndpoint())
        + ",interval=600s";
  }

  List<Received> received() {
    return List.copyOf(received);
  }

  void clear() {
    received.clear();
    traces.clear();
  }

  /** Every span received, in arrival order. */
  List<Span> spans() {
    return spans(null);
  }

  /** Every span received from the service named {@code service} (any, when null), in arrival order. */
  List<Span> spans(String service) {
    List<Span> out = new ArrayList<>();
    for (ExportTraceServiceRequest r : traces) {
      for (ResourceSpans rs : r.getResourceSpansList()) {
        if (service != null && !service.equals(Otlp.attributes(rs.getResource().getAttributesList()).get("service.name"))) {
          continue;
        }
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          out.addAll(ss.getSpansList());
        }
      }
    }
    return out;
  }

  /** Every metric named {@code name}, in arrival order, with the resource it came with. */
  List<ResourceMetric> metrics(String name) {
    List<ResourceMetric> out = new ArrayList<>();
    for (Received r : received) {
      for (ResourceMetrics rm : r.request().getResourceMetricsList()) {
        for (ScopeMetrics sm : rm.getScopeMetricsList()) {
          for (Metric m : sm.getMetricsList()) {
            if (m.getName().equals(name)) {
              out.add(new ResourceMetric(rm, m));
            }
          }
        }
      }
    }
    return out;
  }

  /** The latest {@code name}: with cumulative temporality, everything counted until the last export. */
  Optional<ResourceMetric> latest(String name) {
    List<ResourceMetric> all = metrics(name);
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  record ResourceMetric(ResourceMetrics resource, Metric metric) {}

  /**
   * The jvm.gc.duration points by jvm.gc.name of the last export collected strictly between the
   * two instants (epoch ns); fails when none was.
   */
  Map<String, ExponentialHistogramDataPoint> gcDurationsCollectedBetween(long fromEpochNanos, long toEpochNanos) {
    List<ResourceMetric> all = metrics("jvm.gc.duration");
    for (int i = all.size() - 1; i >= 0; i--) {
      List<ExponentialHistogramDataPoint> points = all.get(i).metric().getExponentialHistogram().getDataPointsList();
      if (!points.isEmpty() && points.get(0).getTimeUnixNano() > fromEpochNanos
          && points.get(0).getTimeUnixNano() < toEpochNanos) {
        Map<String, ExponentialHistogramDataPoint> out = new HashMap<>();
        for (ExponentialHistogramDataPoint p : points) {
          out.put(Otlp.attributes(p.getAttributesList()).get("jvm.gc.name"), p);
        }
        return out;
      }
    }
    throw new AssertionError("no jvm.gc.duration collected between " + fromEpochNanos + " and " + toEpochNanos
        + " ns; collected at " + all.stream().map(m -> m.metric().getExponentialHistogram().getDataPointsList())
        .filter(p -> !p.isEmpty()).map(p -> p.get(0).getTimeUnixNano()).toList());
  }

  /** The latest jvm.gc.duration points by jvm.gc.name; fails when none was received. */
  Map<String, ExponentialHistogramDataPoint> gcDurations() {
    Metric metric = latest("jvm.gc.duration")
        .orElseThrow(() -> new AssertionError("no jvm.gc.duration received")).metric();
    Map<String, ExponentialHistogramDataPoint> out = new HashMap<>();
    for (ExponentialHistogramDataPoint p : metric.getExponentialHistogram().getDataPointsList()) {
      out.put(Otlp.attributes(p.getAttributesList()).get("jvm.gc.name"), p);
    }
    return out;
  }

  @Override
  public void close() {
    http.stop(0);
    grpc.shutdownNow();
  }
}
