package dev.jvmebpf.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.dns.DnsEvent;
import dev.jvmebpf.bpf.events.SpanParent;
import dev.jvmebpf.bpf.gc.GcEvent;
import dev.jvmebpf.bpf.safepoint.SafepointEvent;
import dev.jvmebpf.bpf.socket.SocketEvent;
import dev.jvmebpf.bpf.socket.SocketPeer;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.common.Clock;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class KernelSpansTest {

  /** An epoch clock that is a fixed distance from a monotonic one, both advancing on each read. */
  private static final long OFFSET = 1_780_000_000_000_000_000L;

  private final AtomicLong monotonic = new AtomicLong(5_000_000_000L);
  private final KernelClock clock = new KernelClock(new Clock() {
    @Override
    public long now() {
      return monotonic.addAndGet(100) + OFFSET;
    }

    @Override
    public long nanoTime() {
      return monotonic.get();
    }
  }, () -> monotonic.addAndGet(100));

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final SdkTracerProvider provider = SdkTracerProvider.builder()
      .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();

  @Test
  void clockOffsetIsTheEpochClockMinusTheMonotonicOne() {
    // Each reading advances by 100 ns: the epoch reading sits exactly between the monotonic ones.
    assertEquals(OFFSET, clock.offsetNanos());
    assertEquals(OFFSET + 42, clock.epochNanos(42));
  }

  @Test
  void aGcEventIsARootSpanWithTheKernelsTimes() {
    KernelSpans spans = new KernelSpans(provider.get("test"), clock, 1000);
    spans.emit(new GcEvent("G1 Young Generation", "end of minor GC", false, 7_000_000_123L, 7_003_456_789L, 77));

    List<SpanData> out = exporter.getFinishedSpanItems();
    assertEquals(1, out.size());
    SpanData span = out.get(0);
    assertEquals("GC G1 Young Generation", span.getName());
    assertEquals(SpanKind.INTERNAL, span.getKind());
    assertFalse(span.getParentSpanContext().isValid(), "its own trace");
    assertEquals(OFFSET + 7_000_000_123L, span.getStartEpochNanos());
    assertEquals(OFFSET + 7_003_456_789L, span.getEndEpochNanos());
    assertEquals("G1 Young Generation", span.getAttributes().get(GcMetrics.GC_NAME));
    assertEquals("end of minor GC", span.getAttributes().get(GcMetrics.GC_ACTION));
    assertEquals(false, span.getAttributes().get(GcSpans.PAUSE));
  }

  @Test
  void aFailedLookupIsAClientSpanWithStatusError() {
    KernelSpans spans = new KernelSpans(provider.get("test"), clock, 1000);
    spans.emit(new DnsEvent("nowhere.invalid", "EAI_NONAME", 9_000_000_000L, 9_020_000_000L, 5, null));
    spans.emit(new DnsEvent("slow.example", null, 9_100_000_000L, 9_200_000_000L, 5, null));

    List<SpanData> out = exporter.getFinishedSpanItems();
    assertEquals(2, out.size());
    SpanData failed = out.get(0);
    assertEquals("DNS lookup", failed.getName());
    assertEquals(SpanKind.CLIENT, failed.getKind());
    assertEquals("nowhere.invalid", failed.getAttributes().get(DnsMetrics.QUESTION_NAME));
    assertEquals("EAI_NONAME", failed.getAttributes().get(DnsMetrics.ERROR_TYPE));
    assertEquals(StatusCode.ERROR, failed.getStatus().getStatusCode());
    assertEquals(OFFSET + 9_020_000_000L, failed.getEndEpochNanos());
    SpanData slow = out.get(1);
    assertEquals(StatusCode.UNSET, slow.getStatus().getStatusCode());
    assertEquals(null, slow.getAttributes().get(DnsMetrics.ERROR_TYPE));
  }

  @Test
  void socketCallsAndConnectsCarryTheirPeer() {
    KernelSpans spans = new KernelSpans(provider.get("test"), clock, 1000);
    SocketPeer peer = new SocketPeer("10.0.0.7", 8080, "tcp", false);
    spans.emit(new SocketEvent(peer, "receive", null, 412, 1_000_000_000L, 1_250_000_000L, 9, null));
    spans.emit(new SocketEvent(peer, null, "ECONNREFUSED", 0, 2_000_000_000L, 2_000_100_000L, 9, null));

    List<SpanData> out = exporter.getFinishedSpanItems();
    SpanData receive = out.get(0);
    assertEquals("socket receive", receive.getName());
    assertEquals("10.0.0.7", receive.getAttributes().get(SocketMetrics.PEER_ADDRESS));
    assertEquals(8080L, receive.getAttributes().get(SocketMetrics.PEER_PORT));
    assertEquals("tcp", receive.getAttributes().get(SocketMetrics.TRANSPORT));
    assertEquals("receive", receive.getAttributes().get(SocketMetrics.DIRECTION));
    assertEquals(412L, receive.getAttributes().get(SocketSpans.BYTES));
    assertEquals(250_000_000L, receive.getEndEpochNanos() - receive.getStartEpochNanos());
    SpanData connect = out.get(1);
    assertEquals("socket connect", connect.getName());
    assertEquals(SpanKind.CLIENT, connect.getKind());
    assertEquals("ECONNREFUSED", connect.getAttributes().get(SocketMetrics.ERROR_TYPE));
    assertEquals(StatusCode.ERROR, connect.getStatus().getStatusCode());
    assertEquals(null, connect.getAttributes().get(SocketMetrics.DIRECTION));
  }

  @Test
  void aCallMadeInsideAnApplicationSpanIsItsChild() {
    KernelSpans spans = new KernelSpans(provider.get("test"), clock, 1000);
    SocketPeer peer = new SocketPeer("10.0.0.7", 8080, "tcp", false);
    String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    spans.emit(new SocketEvent(peer, "receive", null, 1, 1_000_000_000L, 1_250_000_000L, 9,
        new SpanParent(trace, "00f067aa0ba902b7", 1)));
    spans.emit(new DnsEvent("slow.example", null, 2_000_000_000L, 2_100_000_000L, 9,
        new SpanParent(trace, "00f067aa0ba902b8", 1)));
    // Not sampled by the application: the parent-based sampler drops ours too.
    spans.emit(new SocketEvent(peer, "receive", null, 1, 3_000_000_000L, 3_250_000_000L, 9,
        new SpanParent(trace, "00f067aa0ba902b9", 0)));

    List<SpanData> out = exporter.getFinishedSpanItems();
    assertEquals(2, out.size());
    assertEquals(trace, out.get(0).getTraceId());
    assertEquals("00f067aa0ba902b7", out.get(0).getParentSpanId());
    assertTrue(out.get(0).getParentSpanContext().isRemote());
    assertEquals(trace, out.get(1).getTraceId());
    assertEquals("00f067aa0ba902b8", out.get(1).getParentSpanId());
  }

  @Test
  void aSafepointCarriesItsOperationAndTimeToSafepoint() {
    KernelSpans spans = new KernelSpans(provider.get("test"), clock, 1000);
    spans.emit(new SafepointEvent("G1CollectFull", 250_000, 3_000_000_000L, 3_012_000_000L, 4));
    SpanData span = exporter.getFinishedSpanItems().get(0);
    assertEquals("Safepoint G1CollectFull", span.getName());
    assertEquals("G1CollectFull", span.getAttributes().get(SafepointMetrics.OPERATION));
    assertEquals(0.00025, span.getAttributes().get(SafepointSpans.SYNC_DURATION), 1e-12);
    assertFalse(span.getParentSpanContext().isValid());
  }

  @Test
  void spansOverTheCapPerSecondAreCountedNotMade() {
    KernelSpans spans = new KernelSpans(provider.get("test"), clock, 10);
    for (int i = 0; i < 25; i++) { // 25 in second 3
      spans.emit(new GcEvent("Copy", "end of minor GC", false, 3_000_000_000L + i, 3_000_000_100L + i, 1));
    }
    for (int i = 0; i < 4; i++) { // 4 in second 4: a new window
      spans.emit(new GcEvent("Copy", "end of minor GC", false, 4_000_000_000L + i, 4_000_000_100L + i, 1));
    }
    assertEquals(14, exporter.getFinishedSpanItems().size());

    MetricContext context = new MetricContext(Resource.empty(), InstrumentationScopeInfo.create("test"), 1, 2);
    List<MetricData> metrics = spans.metrics(context);
    assertEquals(14, value(metrics, KernelSpans.EMITTED));
    assertEquals(15, value(metrics, KernelSpans.LIMITED));
    assertTrue(metrics.stream().allMatch(m -> m.getLongSumData().getPoints().iterator().next().getAttributes()
        .get(KernelSpans.FAMILY).equals("gc")));
  }

  private static long value(List<MetricData> metrics, String name) {
    return metrics.stream().filter(m -> m.getName().equals(name)).findFirst().orElseThrow()
        .getLongSumData().getPoints().iterator().next().getValue();
  }
}
