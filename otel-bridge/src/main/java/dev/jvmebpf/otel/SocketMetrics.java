package dev.jvmebpf.otel;

import static io.opentelemetry.api.common.AttributeKey.longKey;
import static io.opentelemetry.api.common.AttributeKey.stringKey;

import dev.jvmebpf.bpf.socket.SocketPeer;
import dev.jvmebpf.bpf.socket.SocketSnapshot;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import java.util.ArrayList;
import java.util.List;

/**
 * Socket metrics (names are ours; the attributes are the semantic conventions'), exponential
 * histograms:
 * <ul>
 *   <li>{@code jvm.socket.io.duration}, s: each libc call that received or sent on a socket, from
 *       call to return, by {@code network.io.direction} ({@code receive}, {@code transmit}),
 *       peer and {@code error.type} (the errno name, e.g. {@code ECONNRESET}, {@code EAGAIN}) for
 *       calls that failed;
 *   <li>{@code jvm.socket.io.size}, By: bytes each successful call moved (0 is the end of the
 *       stream);
 *   <li>{@code jvm.socket.connect.duration}, s: each connect, from the call to its result
 *       ({@code error.type} e.g. {@code ECONNREFUSED} when it failed).
 * </ul>
 * The peer is {@code network.peer.address} and {@code network.peer.port} (absent when unknown,
 * e.g. UNIX sockets) and {@code network.transport} ({@code tcp}, {@code udp}, {@code unix}); peers
 * beyond the bound have {@code network.peer.address="other"} and nothing else.
 */
public final class SocketMetrics {

  public static final String IO_DURATION = "jvm.socket.io.duration";
  public static final String IO_SIZE = "jvm.socket.io.size";
  public static final String CONNECT_DURATION = "jvm.socket.connect.duration";
  public static final AttributeKey<String> DIRECTION = stringKey("network.io.direction");
  public static final AttributeKey<String> PEER_ADDRESS = stringKey("network.peer.address");
  public static final AttributeKey<Long> PEER_PORT = longKey("network.peer.port");
  public static final AttributeKey<String> TRANSPORT = stringKey("network.transport");
  public static final AttributeKey<String> ERROR_TYPE = stringKey("error.type");
  static final String OTHER = "other";

  private SocketMetrics() {}

  public static List<MetricData> of(SocketSnapshot snapshot, MetricContext context) {
    List<ExponentialHistogramPointData> durations = new ArrayList<>();
    List<ExponentialHistogramPointData> sizes = new ArrayList<>();
    for (SocketSnapshot.Io io : snapshot.io()) {
      AttributesBuilder a = peer(io.peer()).put(DIRECTION, io.direction());
      if (io.error() != null) {
        a.put(ERROR_TYPE, io.error());
      }
      Attributes attributes = a.build();
      if (io.durations().count() > 0) {
        durations.add(ExponentialHistograms.point(io.durations(), attributes, context));
      }
      if (io.sizes().count() > 0) {
        sizes.add(ExponentialHistograms.point(io.sizes(), attributes, context));
      }
    }
    List<ExponentialHistogramPointData> connects = new ArrayList<>();
    for (SocketSnapshot.Connect c : snapshot.connects()) {
      AttributesBuilder a = peer(c.peer());
      if (c.error() != null) {
        a.put(ERROR_TYPE, c.error());
      }
      if (c.durations().count() > 0) {
        connects.add(ExponentialHistograms.point(c.durations(), a.build(), context));
      }
    }
    List<MetricData> out = new ArrayList<>(3);
    if (!durations.isEmpty()) {
      out.add(ExponentialHistograms.metric(context, IO_DURATION,
          "Duration of socket receive and send calls, from call to return, measured in the kernel.", "s", durations));
    }
    if (!sizes.isEmpty()) {
      out.add(ExponentialHistograms.metric(context, IO_SIZE, "Bytes moved by each successful socket receive or "
          + "send call.", "By", sizes));
    }
    if (!connects.isEmpty()) {
      out.add(ExponentialHistograms.metric(context, CONNECT_DURATION,
          "Duration of connects, from the call to its result.", "s", connects));
    }
    return out;
  }

  static AttributesBuilder peer(SocketPeer peer) {
    AttributesBuilder a = Attributes.builder();
    if (peer.other()) {
      return a.put(PEER_ADDRESS, OTHER);
    }
    if (!peer.address().isEmpty()) {
      a.put(PEER_ADDRESS, peer.address());
    }
    if (peer.port() != 0) {
      a.put(PEER_PORT, (long) peer.port());
    }
    return a.put(TRANSPORT, peer.transport());
  }
}
