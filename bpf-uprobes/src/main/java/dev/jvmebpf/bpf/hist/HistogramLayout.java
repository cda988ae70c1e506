package dev.jvmebpf.bpf.hist;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The bucket boundary table handed to a BPF program so that each kernel bucket is exactly one
 * OpenTelemetry base-2 exponential-histogram bucket.
 *
 * <p>Kernel values are non-negative integers in a base unit (nanoseconds, bytes); the metric is
 * in a larger unit (seconds, bytes) with {@code baseUnitsPerUnit} base units per unit. A value
 * {@code v} belongs to OpenTelemetry bucket {@code index(v / baseUnitsPerUnit)}, where
 * {@code index} is the mapping of the OpenTelemetry data model at this scale (logarithm for
 * positive scales, exponent extraction for scale 0), evaluated in double arithmetic exactly as
 * an SDK would evaluate it on the converted value. Buckets are lower-exclusive and
 * upper-inclusive: bucket {@code i} covers {@code (base^i, base^(i+1)]}.
 *
 * <p>{@code upper[k]} is the largest integer value of bucket {@code firstIndex + k}; buckets
 * that contain no integer value repeat the previous entry and are never chosen. The table covers
 * {@code [1, 2^48)} exactly (78 hours in nanoseconds, 256 TiB in bytes); its last entry is
 * {@code 2^64-1}, so larger values land in the top bucket. Zero is counted apart, as the
 * OpenTelemetry zero bucket.
 */
public final class HistogramLayout {

  /** Mirror of HIST_MAX_BUCKETS in hist.h. */
  public static final int MAX_BUCKETS = 400;
  /** Mirror of HIST_LAYOUT_ENTRIES in hist.h: the table's entries, those past the buckets 2^64-1. */
  public static final int LAYOUT_ENTRIES = 512;
  /** Values below this are bucketed exactly. */
  public static final long EXACT_LIMIT = 1L << 48;
  public static final int MIN_SCALE = 0;
  /** Scale 3 needs 385 buckets for [1, 2^48); scale 4 would need 770. */
  public static final int MAX_SCALE = 3;

  private final int scale;
  private final long baseUnitsPerUnit;
  private final int firstIndex;
  private final long[] upper;

  private HistogramLayout(int scale, long baseUnitsPerUnit, int firstIndex, long[] upper) {
    this.scale = scale;
    this.baseUnitsPerUnit = baseUnitsPerUnit;
    this.firstIndex = firstIndex;
    this.upper = upper;
  }

  /** Layout for durations kept in nanoseconds and exported in seconds. */
  public static HistogramLayout nanosecondsAsSeconds(int scale) {
    return create(scale, 1_000_000_000L);
  }

  public static HistogramLayout create(int scale, long baseUnitsPerUnit) {
    if (scale < MIN_SCALE || scale > MAX_SCALE) {
      throw new IllegalArgumentException("histogram scale must be between " + MIN_SCALE + " and "
          + MAX_SCALE + ", got " + scale);
    }
    if (baseUnitsPerUnit < 1) {
      throw new IllegalArgumentException("baseUnitsPerUnit must be positive");
    }
    int first = index(1.0 / baseUnitsPerUnit, scale);
    int last = index((double) (EXACT_LIMIT - 1) / baseUnitsPerUnit, scale);
    long[] upper = new long[last - first + 1];
    long below = 0;
    for (int i = first; i <= last; i++) {
      below = largestIn(i, below, scale, baseUnitsPerUnit);
      upper[i - first] = below;
    }
    upper[upper.length - 1] = -1L; // 2^64 - 1 as unsigned: everything above the exact range
    if (upper.length > MAX_BUCKETS) {
      throw new IllegalStateException("scale " + scale + " needs " + upper.length + " buckets");
    }
    return new HistogramLayout(scale, baseUnitsPerUnit, first, upper);
  }

  /**
   * The largest x in [below, EXACT_LIMIT - 1] with {@code index(x / perUnit) <= i} (index is
   * monotonic in x), {@code below} if none is larger. First from the bucket's upper bound in
   * closed form, base^(i+1) units, then checked with index itself and moved by the step or two
   * that rounding may need; a binary search where that does not settle it. (The binary search
   * alone evaluated index about 50 times per bucket, 40,000 logarithms per layout at every start.)
   */
  static long largestIn(int i, long below, int scale, long perUnit) {
    double guess = Math.pow(2, Math.scalb((double) (i + 1), -scale)) * perUnit;
    long x = guess >= EXACT_LIMIT - 1 ? EXACT_LIMIT - 1 : Math.max(below, (long) guess);
    for (int step = 0; step < 4; step++) {
      if (index((double) x / perUnit, scale) > i) {
        if (x == below) {
          break;
        }
        x--;
      } else if (x < EXACT_LIMIT - 1 && index((double) (x + 1) / perUnit, scale) <= i) {
        x++;
      } else {
        return x;
      }
    }
    long lo = below;
    long hi = EXACT_LIMIT - 1;
    while (lo < hi) {
      long mid = lo + (hi - lo + 1) / 2;
      if (index((double) mid / perUnit, scale) <= i) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /**
   * OpenTelemetry bucket index of a positive value at a scale, as the data model specifies:
   * {@code ceil(log(v) * 2^scale / ln 2) - 1} for positive scales; for scale 0 the IEEE
   * exponent, minus one for exact powers of two.
   */
  public static int index(double value, int scale) {
    if (scale > 0) {
      return (int) Math.ceil(Math.log(value) * Math.scalb(1 / Math.log(2), scale)) - 1;
    }
    int exponent = Math.getExponent(value);
    long significand = Double.doubleToRawLongBits(value) & 0xFFFFFFFFFFFFFL;
    if (exponent == Double.MIN_EXPONENT - 1) { // subnormal
      exponent = Double.MIN_EXPONENT - 1 - (Long.numberOfLeadingZeros(significand - 1) - 12);
    }
    int index = significand == 0 ? exponent - 1 : exponent;
    return index >> -scale;
  }

  public int scale() {
    return scale;
  }

  public long baseUnitsPerUnit() {
    return baseUnitsPerUnit;
  }

  /** OpenTelemetry bucket index of kernel bucket 0. */
  public int firstIndex() {
    return firstIndex;
  }

  public int bucketCount() {
    return upper.length;
  }

  /** Largest value of kernel bucket {@code k} (unsigned; the last is 2^64-1). */
  public long upper(int k) {
    return upper[k];
  }

  /**
   * The kernel bucket of a value v > 0, by the same search the BPF program does (hist_bucket in
   * common.bpf.h): the number of entries below v in the table padded to {@link #LAYOUT_ENTRIES}.
   */
  public int bucketOf(long v) {
    int pos = 0;
    for (int step = LAYOUT_ENTRIES / 2; step > 0; step >>= 1) {
      if (Long.compareUnsigned(tableEntry(pos + step - 1), v) < 0) {
        pos += step;
      }
    }
    return pos;
  }

  /** Entry k of the table as the kernel holds it: 2^64-1 past the buckets. */
  private long tableEntry(int k) {
    return k < upper.length ? upper[k] : -1L;
  }

  /** Converts a base-unit value to the metric's unit. */
  public double toUnit(long v) {
    return (double) v / baseUnitsPerUnit;
  }

  /** Writes this table as a {@code struct hist_layout} at the buffer's position. */
  public void writeTo(ByteBuffer out) {
    int at = out.position();
    for (int k = 0; k < LAYOUT_ENTRIES; k++) {
      out.putLong(at + HistStructs.HIST_LAYOUT.offset("upper") + 8 * k, tableEntry(k));
    }
    out.putInt(at + HistStructs.HIST_LAYOUT.offset("bucket_count"), upper.length);
    out.putInt(at + HistStructs.HIST_LAYOUT.offset("first_index"), firstIndex);
    out.putInt(at + HistStructs.HIST_LAYOUT.offset("scale"), scale);
  }

  @Override
  public String toString() {
    return "HistogramLayout[scale=" + scale + ", baseUnitsPerUnit=" + baseUnitsPerUnit
        + ", firstIndex=" + firstIndex + ", buckets=" + upper.length + ", head="
        + Arrays.toString(Arrays.copyOf(upper, Math.min(4, upper.length))) + "]";
  }
}
