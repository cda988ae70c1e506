package dev.jvmebpf.bpf.socket;

import dev.jvmebpf.bpf.FamilySnapshot;
import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import java.util.List;

/**
 * Socket calls of this JVM since the probes were attached (cumulative).
 *
 * @param io one entry per peer, direction and outcome
 * @param connects one entry per peer and outcome
 * @param probes self-telemetry of each program
 */
public record SocketSnapshot(List<Io> io, List<Connect> connects, List<ProbeStats> probes) implements FamilySnapshot {

  /**
   * Calls that moved data in one direction, to or from one peer, with one outcome.
   *
   * @param direction "receive" or "transmit"
   * @param error the errno name of the calls' failure ("ECONNRESET", "EAGAIN", "_OTHER" when it
   *     could not be read), null for calls that succeeded
   * @param durations each call's duration in nanoseconds, from entry to return
   * @param sizes bytes each successful call moved (empty for failures; 0 is end of stream)
   */
  public record Io(SocketPeer peer, String direction, String error, HistogramSnapshot durations,
      HistogramSnapshot sizes) {}

  /**
   * Connects to one peer with one outcome.
   *
   * @param error the errno name of the failure ("ECONNREFUSED", ...), null for success
   * @param durations nanoseconds from connect() to its result (for a non-blocking connect, to
   *     the getsockopt(SO_ERROR) that told it)
   */
  public record Connect(SocketPeer peer, String error, HistogramSnapshot durations) {}
}
