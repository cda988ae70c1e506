package dev.jvmebpf.bpf.socket;

import dev.jvmebpf.bpf.events.KernelEvent;
import dev.jvmebpf.bpf.events.SpanParent;

/**
 * One slow receive or transmit, or one slow or failed connect, from the span ring buffer.
 *
 * @param peer the peer as the call saw it (never folded into "other")
 * @param direction "receive" or "transmit"; null for a connect
 * @param errorType the errno name of a failure; null on success
 * @param bytes what a receive or transmit returned (0 for a connect)
 * @param parent the application span current on the calling thread; null for none
 */
public record SocketEvent(SocketPeer peer, String direction, String errorType, long bytes, long startNanos,
    long endNanos, int tid, SpanParent parent) implements KernelEvent {

  /** Whether this is a connect rather than a receive or transmit. */
  public boolean connect() {
    return direction == null;
  }

  @Override
  public String family() {
    return "socket";
  }
}
