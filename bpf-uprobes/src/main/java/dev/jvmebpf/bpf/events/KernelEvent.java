package dev.jvmebpf.bpf.events;

/**
 * A slow or rare event that a family sent through the span ring buffer (events.h), decoded.
 * Times are the kernel's CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns), the clock of
 * {@link System#nanoTime()} on Linux.
 */
public interface KernelEvent {

  /** The family that emitted it, as in {@code probes.<family>}. */
  String family();

  long startNanos();

  long endNanos();

  /** The thread, as the kernel numbers it (the host's tid). */
  int tid();

  /** The application span current on the thread when the event happened; null for none. */
  default SpanParent parent() {
    return null;
  }
}
