package dev.jvmebpf.bpf.hist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HistogramLayoutTest {

  @ParameterizedTest
  @CsvSource({"0,1000000000", "1,1000000000", "2,1000000000", "3,1000000000", "0,1", "3,1"})
  void tableIsSortedFitsAndCoversEveryValue(int scale, long perUnit) {
    HistogramLayout layout = HistogramLayout.create(scale, perUnit);
    assertTrue(layout.bucketCount() <= HistogramLayout.MAX_BUCKETS, "fits the kernel's table");
    for (int k = 1; k < layout.bucketCount(); k++) {
      assertTrue(Long.compareUnsigned(layout.upper(k - 1), layout.upper(k)) <= 0, "sorted at " + k);
    }
    assertEquals(-1L, layout.upper(layout.bucketCount() - 1), "the last bucket takes everything above");
    assertEquals(0, layout.bucketOf(1));
    assertEquals(layout.bucketCount() - 1, layout.bucketOf(-1L), "2^64-1 has a bucket");
    // A bucket's largest value is in it, the next value is not.
    for (int k = 0; k < layout.bucketCount() - 1; k++) {
      long upper = layout.upper(k);
      if (k > 0 && upper == layout.upper(k - 1)) {
        continue; // a bucket with no integer value in it
      }
      assertEquals(k, layout.bucketOf(upper), "upper of " + k);
      assertTrue(layout.bucketOf(upper + 1) > k, "above upper of " + k);
    }
  }

  @ParameterizedTest
  @CsvSource({"0,1000000000", "3,1000000000", "3,1"})
  void bucketsAreTheDataModelsBuckets(int scale, long perUnit) {
    HistogramLayout layout = HistogramLayout.create(scale, perUnit);
    double base = Math.pow(2, Math.pow(2, -scale));
    for (int k = 0; k < layout.bucketCount() - 1; k++) {
      long upper = layout.upper(k);
      if (k > 0 && upper == layout.upper(k - 1)) {
        continue;
      }
      // Bucket index i holds (base^i, base^(i+1)]: away from the rounding at the boundary,
      // its largest value is just below base^(i+1).
      double bound = Math.pow(base, layout.firstIndex() + k + 1) * perUnit;
      assertTrue(upper <= bound * (1 + 1e-12) && upper + 1 > bound * (1 - 1e-12),
          "bucket " + (layout.firstIndex() + k) + " ends at " + upper + ", bound " + bound);
    }
  }

  /**
   * Each bucket's upper value is the largest value the data model's index puts in that bucket or
   * below, found here by a plain binary search over the index (as the table was once built) for
   * every bucket of every scale: the closed form the table starts from must land on the same.
   */
  @ParameterizedTest
  @CsvSource({"0,1000000000", "1,1000000000", "2,1000000000", "3,1000000000", "0,1", "1,1", "2,1", "3,1",
      "3,1000", "2,1000000"})
  void upperValuesAreWhatABinarySearchOverTheIndexFinds(int scale, long perUnit) {
    HistogramLayout layout = HistogramLayout.create(scale, perUnit);
    long below = 0;
    for (int k = 0; k < layout.bucketCount() - 1; k++) {
      int i = layout.firstIndex() + k;
      long lo = below;
      long hi = HistogramLayout.EXACT_LIMIT - 1;
      while (lo < hi) {
        long mid = lo + (hi - lo + 1) / 2;
        if (HistogramLayout.index((double) mid / perUnit, scale) <= i) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      assertEquals(lo, layout.upper(k), "upper value of bucket " + i + " at scale " + scale + ", " + perUnit);
      below = lo;
    }
  }

  @ParameterizedTest
  @CsvSource({"-1", "4", "20"})
  void rejectsScalesTheKernelTableCannotHold(int scale) {
    assertThrows(IllegalArgumentException.class, () -> HistogramLayout.nanosecondsAsSeconds(scale));
  }
}
