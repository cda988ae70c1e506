package dev.jvmebpf.bpf.hist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.libbpf.BpfMap;
import dev.jvmebpf.bpf.libbpf.BpfObject;
import dev.jvmebpf.bpf.libbpf.BpfObjectSpec;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Runs the kernel's own bucket search (common.bpf.h's hist_bucket, in a test-only program
 * executed with BPF_PROG_TEST_RUN) on at least 10^6 values per layout and compares each
 * choice with the Java table; the same for hist_bucket_near, which first tries the previous
 * value's bucket (the values come in runs that share a bucket and runs that do not, so both
 * its shortcut and its search are taken). The same values, counted by hist_add into one shared
 * histogram and read back as the families' maps are read, must give the buckets, sum, min and
 * max that Java computes from the values themselves. otel-bridge's ExponentialBucketsSdkTest compares the same
 * values' Java buckets with the OpenTelemetry SDK's indexer.
 */
class KernelBucketTest {

  private static final int BATCH = 8192;

  @ParameterizedTest
  @CsvSource({"3,1000000000,1000000,3", "0,1000000000,100000,0", "1,1000000000,100000,3", "2,1000000000,100000,0",
      "3,1,100000,3"})
  void kernelChoosesTheJavaTablesBucket(int scale, long perUnit, int count, int zeroValues) throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    HistogramLayout layout = HistogramLayout.create(scale, perUnit);
    long[] positive = HistogramTestValues.of(layout, count);
    assertTrue(positive.length >= count);
    // Zeros too in some rows, for hist_add's zero bucket and the min it implies.
    long[] values = java.util.Arrays.copyOf(positive, positive.length + zeroValues);

    BpfObjectSpec spec = BpfObjectSpec.fromResource(KernelBucketTest.class, "hist_test");
    try (BpfObject object = BpfObject.open(libbpf, spec)) {
      ByteBuffer table = HistStructs.HIST_LAYOUT.allocate();
      layout.writeTo(table);
      object.setConfig("layout", table.array());
      object.load();
      BpfMap in = object.map("hist_test_values");
      BpfMap out = object.map("hist_test_buckets");
      byte[] key = new byte[4];
      byte[] chosen = out.newValue();
      int mismatches = 0;
      int nearMismatches = 0;
      int repeats = 0;
      int previous = -1;
      String first = "";
      for (int from = 0; from < values.length; from += BATCH) {
        int n = Math.min(BATCH, values.length - from);
        ByteBuffer batch = ByteBuffer.allocate(in.valueSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          batch.putLong(values[from + i]);
        }
        in.update(key, batch.array(), 0);
        byte[] args = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(n).array();
        assertEquals(n, object.testRun("hist_test_run", args), "bpf_loop iterations");
        out.lookup(key, chosen);
        ByteBuffer result = ByteBuffer.wrap(chosen).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          long v = values[from + i];
          int kernel = result.getInt(4 * i);
          int near = result.getInt(4 * (BATCH + i));
          int java = layout.bucketOf(v);
          if (kernel != java) {
            if (mismatches++ == 0) {
              first = "value " + Long.toUnsignedString(v) + ": kernel " + kernel + ", Java " + java;
            }
          }
          if (near != java && nearMismatches++ == 0 && mismatches == 0) {
            first = "value " + Long.toUnsignedString(v) + ": kernel (near) " + near + ", Java " + java;
          }
          if (v == 0) {
            continue; // the zero bucket is not a bucket of the table
          }
          if (v != 0 && java == previous) {
            repeats++;
          }
          previous = v != 0 ? java : previous;
        }
      }
      assertEquals(0, mismatches, "kernel and Java disagree on " + mismatches + " of "
          + HistogramTestValues.describe(values) + "; first: " + first);
      assertEquals(0, nearMismatches, "the kernel's guided search and Java disagree on " + nearMismatches
          + " of " + HistogramTestValues.describe(values) + "; first: " + first);
      assertTrue(repeats > 0 && repeats < values.length - 1, "both paths of the guided search taken: "
          + repeats + " repeats of " + values.length);

      long[] expected = new long[layout.bucketCount()];
      long zeros = 0;
      long sum = 0;
      long max = 0;
      long min = Long.MAX_VALUE;
      for (long v : values) {
        min = Math.min(min, v);
        if (v == 0) {
          zeros++;
        } else {
          expected[layout.bucketOf(v)]++;
        }
        sum += v; // wraps like the kernel's u64
        max = Math.max(max, v);
      }
      HistogramSnapshot kernel = HistogramMaps.read(object.map("hist_test_hist"), 0, layout).orElseThrow();
      assertEquals(values.length, kernel.count(), "values counted");
      assertEquals(zeros, kernel.zeroCount(), "zeros counted");
      assertTrue(java.util.Arrays.equals(expected, kernel.bucketCounts()), "bucket counts of hist_add");
      assertEquals(sum, kernel.sum(), "sum");
      assertEquals(min, kernel.min(), "min (" + zeroValues + " zeros among the values)");
      assertEquals(max, kernel.max(), "max");
    }
  }
}
