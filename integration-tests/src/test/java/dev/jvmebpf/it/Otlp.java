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
}
