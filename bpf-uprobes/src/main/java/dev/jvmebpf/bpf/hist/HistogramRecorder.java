package dev.jvmebpf.bpf.hist;

/**
 * Records values in Java into the same buckets the kernel uses, for sources that are not BPF
 * (the agent's degraded mode) and for tests. Thread-safe.
 */
public final class HistogramRecorder {

  private final HistogramLayout layout;
  private final long[] counts;
  private long zeroCount;
  private long sum;
  private long min = Long.MAX_VALUE;
  private long max;
  private long count;

  public HistogramRecorder(HistogramLayout layout) {
    this.layout = layout;
    this.counts = new long[layout.bucketCount()];
  }

  /** Records a non-negative value in the layout's base unit. */
  public synchronized void record(long value) {
    if (value < 0) {
      throw new IllegalArgumentException("negative value " + value);
    }
    if (value == 0) {
      zeroCount++;
    } else {
      counts[layout.bucketOf(value)]++;
    }
    sum += value;
    min = Math.min(min, value);
    max = Math.max(max, value);
    count++;
  }

  public synchronized HistogramSnapshot snapshot() {
    return new HistogramSnapshot(layout, zeroCount, counts, sum, count == 0 ? 0 : min, max);
  }
}
