package dev.jvmebpf.bpf.hist;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

/**
 * Values that exercise a {@link HistogramLayout}: every boundary and its neighbours, then
 * values spread log-uniformly over the exact range, from a fixed seed. Shared with the
 * OpenTelemetry-SDK comparison in otel-bridge (this module's test-jar).
 */
public final class HistogramTestValues {

  private HistogramTestValues() {}

  /** At least {@code count} positive values, all boundaries included. */
  public static long[] of(HistogramLayout layout, int count) {
    LongStream.Builder values = LongStream.builder();
    int n = 0;
    for (int k = 0; k < layout.bucketCount() - 1; k++) {
      long upper = layout.upper(k);
      for (long v = upper - 2; v <= upper + 2; v++) {
        if (v > 0) {
          values.add(v);
          n++;
        }
      }
    }
    values.add(Long.MAX_VALUE).add(HistogramLayout.EXACT_LIMIT - 1).add(HistogramLayout.EXACT_LIMIT).add(1);
    n += 4;
    SplittableRandom random = new SplittableRandom(20261125L);
    double top = Math.log(HistogramLayout.EXACT_LIMIT - 1);
    while (n < count) {
      values.add(Math.max(1, (long) Math.exp(random.nextDouble() * top)));
      n++;
    }
    return values.build().toArray();
  }

  /** Small summary for assertion messages. */
  public static String describe(long[] values) {
    return values.length + " values, " + Arrays.stream(values).distinct().count() + " distinct";
  }
}
