package dev.jvmebpf.otel;

import io.opentelemetry.sdk.common.Clock;
import java.util.function.LongSupplier;

/**
 * Converts the kernel's CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns, the clock of
 * {@link System#nanoTime()} on Linux) to epoch nanoseconds by one offset, measured when created
 * and again on each {@link #refresh()}: no clock is read per event. The offset comes from the
 * tightest of a few readings of the epoch clock between two monotonic readings, so it is off by
 * at most half that gap (well under a microsecond here) plus the epoch clock's own resolution.
 * A refresh follows the wall clock when NTP steps or slews it.
 */
public final class KernelClock {

  private static final int READINGS = 5;

  private final Clock epoch;
  private final LongSupplier monotonic;
  private volatile long offsetNanos;

  KernelClock(Clock epoch, LongSupplier monotonic) {
    this.epoch = epoch;
    this.monotonic = monotonic;
    refresh();
  }

  /** The SDK's epoch clock against System.nanoTime. */
  public static KernelClock system() {
    return new KernelClock(Clock.getDefault(), System::nanoTime);
  }

  /** Measures the offset again. */
  public void refresh() {
    long bestGap = Long.MAX_VALUE;
    long best = 0;
    for (int i = 0; i < READINGS; i++) {
      long before = monotonic.getAsLong();
      long now = epoch.now();
      long after = monotonic.getAsLong();
      long gap = after - before;
      if (gap >= 0 && gap < bestGap) {
        bestGap = gap;
        best = now - (before + gap / 2);
      }
    }
    offsetNanos = best;
  }

  /** Epoch nanoseconds of a CLOCK_MONOTONIC time. */
  public long epochNanos(long monotonicNanos) {
    return monotonicNanos + offsetNanos;
  }

  /** Epoch minus monotonic, in nanoseconds. */
  public long offsetNanos() {
    return offsetNanos;
  }
}
