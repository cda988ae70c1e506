package dev.jvmebpf.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramTestValues;
import java.lang.reflect.Method;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Java boundary table (the one handed to the kernel) against the OpenTelemetry SDK's own
 * exponential-histogram indexer, on the same values bpf-uprobes' KernelBucketTest runs through
 * the kernel: at least 10^6 per layout for scale 3 in seconds, every boundary and its
 * neighbours included. A value v in nanoseconds is what an SDK would record as v / 1e9.
 */
class SdkIndexerTest {

  @ParameterizedTest
  @CsvSource({"3,1000000000,1000000", "0,1000000000,100000", "1,1000000000,100000", "2,1000000000,100000",
      "3,1,100000"})
  void everyValueLandsInTheSdksBucket(int scale, long perUnit, int count) throws Exception {
    HistogramLayout layout = HistogramLayout.create(scale, perUnit);
    Class<?> indexerClass = Class.forName(
        "io.opentelemetry.sdk.metrics.internal.aggregator.Base2ExponentialHistogramIndexer");
    Method get = indexerClass.getDeclaredMethod("get", int.class);
    Method computeIndex = indexerClass.getDeclaredMethod("computeIndex", double.class);
    get.setAccessible(true);
    computeIndex.setAccessible(true);
    Object sdk = get.invoke(null, scale);

    long[] values = HistogramTestValues.of(layout, count);
    int compared = 0;
    int boundaryChecks = 0;
    for (long v : values) {
      if (v >= HistogramLayout.EXACT_LIMIT) {
        continue; // counted in the top bucket by design (README: 2^48 and above)
      }
      int expected = (int) computeIndex.invoke(sdk, (double) v / perUnit);
      int ours = layout.firstIndex() + layout.bucketOf(v);
      if (expected != ours) {
        assertEquals(expected, ours, "value " + v + " at scale " + scale + " (" + v + "/" + perUnit + ")");
      }
      compared++;
    }
    for (int k = 0; k < layout.bucketCount() - 1; k++) {
      long upper = layout.upper(k);
      if (upper > 0 && (k == 0 || upper != layout.upper(k - 1))) {
        assertEquals(layout.firstIndex() + k, (int) computeIndex.invoke(sdk, (double) upper / perUnit));
        assertEquals(layout.firstIndex() + layout.bucketOf(upper + 1),
            (int) computeIndex.invoke(sdk, (double) (upper + 1) / perUnit));
        boundaryChecks++;
      }
    }
    assertTrue(compared >= count - 3, "compared " + compared + " values");
    // [1, 2^48) spans 48 powers of two, 2^scale buckets each (fewer below 1 ns in seconds).
    assertTrue(boundaryChecks >= 40 << scale, "checked " + boundaryChecks + " boundaries");
  }
}
