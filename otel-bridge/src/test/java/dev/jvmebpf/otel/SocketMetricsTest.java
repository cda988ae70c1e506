package dev.jvmebpf.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramRecorder;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import dev.jvmebpf.bpf.dns.DnsSnapshot;
import dev.jvmebpf.bpf.socket.SocketPeer;
import dev.jvmebpf.bpf.socket.SocketSnapshot;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.resources.Resource;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Socket and DNS snapshots as metrics: names, units, semantic-convention attributes. */
class SocketMetricsTest {

  private final MetricContext context = new MetricContext(Resource.empty(),
      InstrumentationScopeInfo.create("test"), 1, 2);
  private final HistogramLayout nanos = HistogramLayout.nanosecondsAsSeconds(3);
  private final HistogramLayout bytes = HistogramLayout.create(3, 1);

  @Test
  void socketSeriesCarryDirectionPeerAndError() {
    SocketPeer server = new SocketPeer("127.0.0.1", 8080, "tcp", false);
    SocketSnapshot snapshot = new SocketSnapshot(List.of(
        new SocketSnapshot.Io(server, "receive", null, of(nanos, 5_000_000, 50_000_000), of(bytes, 100, 100)),
        new SocketSnapshot.Io(server, "receive", "EAGAIN", of(nanos, 900), HistogramSnapshot.empty(bytes)),
        new SocketSnapshot.Io(new SocketPeer("", 0, "unix", false), "transmit", null, of(nanos, 2000), of(bytes, 8)),
        new SocketSnapshot.Io(SocketPeer.OTHER, "transmit", null, of(nanos, 1000), of(bytes, 10))),
        List.of(new SocketSnapshot.Connect(new SocketPeer("::1", 1, "tcp", false), "ECONNREFUSED", of(nanos, 40_000))),
        List.of());
    Map<String, MetricData> metrics = SocketMetrics.of(snapshot, context).stream()
        .collect(Collectors.toMap(MetricData::getName, m -> m));
    assertEquals("s", metrics.get(SocketMetrics.IO_DURATION).getUnit());
    assertEquals("By", metrics.get(SocketMetrics.IO_SIZE).getUnit());
    assertEquals("s", metrics.get(SocketMetrics.CONNECT_DURATION).getUnit());
    // A failed call has a duration and no size.
    assertEquals(4, points(metrics.get(SocketMetrics.IO_DURATION)).size());
    assertEquals(3, points(metrics.get(SocketMetrics.IO_SIZE)).size());

    Attributes received = points(metrics.get(SocketMetrics.IO_DURATION)).get(0).getAttributes();
    assertEquals(Attributes.builder().put(SocketMetrics.PEER_ADDRESS, "127.0.0.1").put(SocketMetrics.PEER_PORT, 8080L)
        .put(SocketMetrics.TRANSPORT, "tcp").put(SocketMetrics.DIRECTION, "receive").build(), received);
    assertEquals("EAGAIN", points(metrics.get(SocketMetrics.IO_DURATION)).get(1).getAttributes()
        .get(SocketMetrics.ERROR_TYPE));
    Attributes unix = points(metrics.get(SocketMetrics.IO_DURATION)).get(2).getAttributes();
    assertNull(unix.get(SocketMetrics.PEER_ADDRESS));
    assertNull(unix.get(SocketMetrics.PEER_PORT));
    assertEquals("unix", unix.get(SocketMetrics.TRANSPORT));
    assertEquals(Attributes.builder().put(SocketMetrics.PEER_ADDRESS, "other").put(SocketMetrics.DIRECTION, "transmit")
        .build(), points(metrics.get(SocketMetrics.IO_DURATION)).get(3).getAttributes());
    ExponentialHistogramPointData refused = points(metrics.get(SocketMetrics.CONNECT_DURATION)).get(0);
    assertEquals("ECONNREFUSED", refused.getAttributes().get(SocketMetrics.ERROR_TYPE));
    assertEquals(40e-6, refused.getSum(), 1e-12);
  }

  @Test
  void lookupsCarryNameAndResult() {
    DnsSnapshot snapshot = new DnsSnapshot(List.of(
        new DnsSnapshot.Lookup("localhost", false, null, of(nanos, 30_000, 40_000)),
        new DnsSnapshot.Lookup("x.invalid", false, "EAI_NONAME", of(nanos, 2_000_000))), List.of());
    List<ExponentialHistogramPointData> points = points(DnsMetrics.of(snapshot, context).get(0));
    assertEquals(DnsMetrics.LOOKUP_DURATION, DnsMetrics.of(snapshot, context).get(0).getName());
    assertEquals(Attributes.of(DnsMetrics.QUESTION_NAME, "localhost"), points.get(0).getAttributes());
    assertEquals(2, points.get(0).getCount());
    assertEquals("EAI_NONAME", points.get(1).getAttributes().get(DnsMetrics.ERROR_TYPE));
    assertEquals(List.of(), DnsMetrics.of(new DnsSnapshot(List.of(), List.of()), context));
  }

  private static HistogramSnapshot of(HistogramLayout layout, long... values) {
    HistogramRecorder r = new HistogramRecorder(layout);
    for (long v : values) {
      r.record(v);
    }
    return r.snapshot();
  }

  private static List<ExponentialHistogramPointData> points(MetricData m) {
    return List.copyOf(m.getExponentialHistogramData().getPoints());
  }
}
