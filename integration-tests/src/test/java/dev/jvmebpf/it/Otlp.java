package dev.jvmebpf.it;

import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reading OTLP proto messages the way the assertions need them. */
final class Otlp {

  private Otlp() {}

  static Map<String, String> attributes(List<KeyValue> attributes) {
    Map<String, String> out = new LinkedHashMap<>();
    for (KeyValue kv : attributes) {
      AnyValue v = kv.getValue();
      out.put(kv.getKey(), switch (v.getValueCase()) {
        case STRING_VALUE -> v.getStringValue();
        case INT_VALUE -> Long.toString(v.getIntValue());
        case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
        case DOUBLE_VALUE -> Double.toString(v.getDoubleValue());
        default -> v.toString();
      });
    }
    return out;
  }

  /** Bucket counts of a point, positive and zero bucket together. */
  static long bucketTotal(ExponentialHistogramDataPoint p) {
    long total = p.getZeroCount();
    for (long c : p.getPositive().getBucketCountsList()) {
      total += c;
    }
    for (long c : p.getNegative().getBucketCountsList()) {
      total += c;
    }
    return total;
  }

  /**
   * Count of the positive bucket holding {@code value}, with the point's own scale. The index
   * is computed exactly with integer arithmetic (for values that are whole numbers of the
   * unit): bucket i holds (2^(i/2^scale), 2^((i+1)/2^scale)].
   */
  static long bucketCount(ExponentialHistogramDataPoint p, long value) {
    int scale = p.getScale();
    // The smallest i with value <= 2^((i+1)/2^scale), i.e. value^(2^scale) <= 2^(i+1).
    java.math.BigInteger v = java.math.BigInteger.valueOf(value).pow(1 << scale);
    int bits = v.bitLength();
    // value^(2^s) <= 2^(i+1)  <=>  i+1 >= log2(v), exact for powers of two.
    int index = (v.bitCount() == 1 ? bits - 1 : bits) - 1;
    int k = index - p.getPositive().getOffset();
    List<Long> counts = p.getPositive().getBucketCountsList();
    return k >= 0 && k < counts.size() ? counts.get(k) : 0;
  }
}
