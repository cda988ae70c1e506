package dev.jvmebpf.bpf.hist;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One kernel histogram (its copies summed, for a per-CPU map): counts per kernel bucket of a
 * {@link HistogramLayout} plus sum, min and max in the base unit. Immutable.
 *
 * <p>{@link #count()} is the sum of the bucket counts (zero bucket included): the kernel keeps
 * no running count, so it stays consistent even when a read races an update; sum, min and max
 * may then lag by that one value.
 */
public final class HistogramSnapshot {

  private final HistogramLayout layout;
  private final long zeroCount;
  private final long[] counts;
  private final long count;
  private final long sum;
  private final long min;
  private final long max;

  public HistogramSnapshot(HistogramLayout layout, long zeroCount, long[] counts, long sum, long min, long max) {
    if (counts.length != layout.bucketCount()) {
      throw new IllegalArgumentException("expected " + layout.bucketCount() + " buckets, got " + counts.length);
    }
    this.layout = layout;
    this.zeroCount = zeroCount;
    this.counts = counts.clone();
    this.count = zeroCount + Arrays.stream(counts).sum();
    this.sum = sum;
    this.min = min;
    this.max = max;
  }

  public static HistogramSnapshot empty(HistogramLayout layout) {
    return new HistogramSnapshot(layout, 0, new long[layout.bucketCount()], 0, 0, 0);
  }

  /**
   * Reads a {@code struct hist} as a map lookup returns it: one copy for a shared map, one per
   * possible CPU (summed) for a per-CPU one, each {@code stride} bytes apart.
   */
  public static HistogramSnapshot fromCopies(HistogramLayout layout, byte[] values, int copies, int stride) {
    return fromCopies(layout, values, copies, stride, 0);
  }

  /**
   * The same for a {@code struct hist} at {@code offset} inside each copy (a map whose value
   * holds several histograms).
   */
  public static HistogramSnapshot fromCopies(HistogramLayout layout, byte[] values, int copies, int stride,
      int offset) {
    ByteBuffer in = ByteBuffer.wrap(values).order(ByteOrder.LITTLE_ENDIAN);
    long[] counts = new long[layout.bucketCount()];
    long zero = 0;
    long sum = 0;
    long minAboveZero = Long.MAX_VALUE;
    long max = 0;
    int bucketsAt = HistStructs.HIST.offset("buckets");
    for (int copy = 0; copy < copies; copy++) {
      int base = copy * stride + offset;
      zero += in.getLong(base + HistStructs.HIST.offset("zero_count"));
      sum += in.getLong(base + HistStructs.HIST.offset("sum"));
      for (int k = 0; k < counts.length; k++) {
        counts[k] += in.getLong(base + bucketsAt + 8 * k);
      }
      // The kernel keeps the least value above zero, 0 meaning none (hist.h).
      long copyMin = in.getLong(base + HistStructs.HIST.offset("min"));
      if (copyMin != 0) {
        minAboveZero = Math.min(minAboveZero, copyMin);
      }
      max = Math.max(max, in.getLong(base + HistStructs.HIST.offset("max")));
    }
    long min = zero > 0 || minAboveZero == Long.MAX_VALUE ? 0 : minAboveZero;
    return new HistogramSnapshot(layout, zero, counts, sum, min, max);
  }

  /** This histogram and {@code other} (same layout) as one. */
  public HistogramSnapshot plus(HistogramSnapshot other) {
    if (other.layout.scale() != layout.scale() || other.layout.baseUnitsPerUnit() != layout.baseUnitsPerUnit()) {
      throw new IllegalArgumentException("cannot add histograms of different layouts");
    }
    if (other.count == 0) {
      return this;
    }
    if (count == 0) {
      return other;
    }
    long[] sums = counts.clone();
    for (int k = 0; k < sums.length; k++) {
      sums[k] += other.counts[k];
    }
    return new HistogramSnapshot(layout, zeroCount + other.zeroCount, sums, sum + other.sum,
        Math.min(min, other.min), Math.max(max, other.max));
  }

  public HistogramLayout layout() {
    return layout;
  }

  /** Number of values recorded (zero bucket included). */
  public long count() {
    return count;
  }

  public long zeroCount() {
    return zeroCount;
  }

  /** Count of kernel bucket {@code k} (OpenTelemetry index {@code layout().firstIndex() + k}). */
  public long bucketCount(int k) {
    return counts[k];
  }

  public long[] bucketCounts() {
    return counts.clone();
  }

  /** Sum of the values, in the base unit. */
  public long sum() {
    return sum;
  }

  /** Smallest value in the base unit; meaningful when count() > 0. */
  public long min() {
    return min;
  }

  /** Largest value in the base unit; meaningful when count() > 0. */
  public long max() {
    return max;
  }

  @Override
  public String toString() {
    return "HistogramSnapshot[count=" + count + ", sum=" + sum + ", min=" + min + ", max=" + max + "]";
  }
}
