package dev.jvmebpf.otel.console;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramBuckets;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Text for one metric. An exponential histogram is shown in power-of-two rows (buckets of any
 * scale regrouped exactly: at scale s, 2^s buckets make one row), each with its range, count
 * and a bar proportional to the largest row, like bpftrace's {@code hist()}.
 */
final class ConsoleRendering {

  static final int BAR_WIDTH = 40;
  static final int TOP_N = 10;

  private ConsoleRendering() {}

  static void render(MetricData metric, StringBuilder text) {
    switch (metric.getType()) {
      case EXPONENTIAL_HISTOGRAM -> {
        for (ExponentialHistogramPointData p : metric.getExponentialHistogramData().getPoints()) {
          histogram(metric, p, text);
        }
      }
      case LONG_SUM -> {
        if ("By".equals(metric.getUnit())) {
          topBytes(metric, text);
          return;
        }
        // Counters that stayed at zero (no drops, no errors) would only be noise here.
        for (LongPointData p : metric.getLongSumData().getPoints()) {
          if (p.getValue() != 0) {
            scalar(metric, p, text);
          }
        }
      }
      case LONG_GAUGE -> {
        for (LongPointData p : metric.getLongGaugeData().getPoints()) {
          scalar(metric, p, text);
        }
      }
      default -> text.append(metric.getName()).append(" (").append(metric.getType()).append(")\n");
    }
  }

  /** Byte counters (allocation by class, by thread): the largest {@link #TOP_N}, then the rest in one line. */
  private static void topBytes(MetricData metric, StringBuilder text) {
    List<LongPointData> points = new ArrayList<>(metric.getLongSumData().getPoints());
    points.removeIf(p -> p.getValue() == 0);
    if (points.isEmpty()) {
      return;
    }
    points.sort(Comparator.comparingLong(LongPointData::getValue).reversed());
    long total = points.stream().mapToLong(LongPointData::getValue).sum();
    text.append('\n').append(metric.getName()).append("  total ").append(format(total, "By"))
        .append(points.size() > TOP_N ? ", top " + TOP_N : "").append('\n');
    for (LongPointData p : points.subList(0, Math.min(TOP_N, points.size()))) {
      text.append(String.format(Locale.ROOT, "  %10s %5.1f%%  %s%n", format(p.getValue(), "By"),
          100.0 * p.getValue() / total, attributes(p.getAttributes())));
    }
    if (points.size() > TOP_N) {
      long rest = points.subList(TOP_N, points.size()).stream().mapToLong(LongPointData::getValue).sum();
      text.append(String.format(Locale.ROOT, "  %10s %5.1f%%  (%d more)%n", format(rest, "By"),
          100.0 * rest / total, points.size() - TOP_N));
    }
  }

  private static void scalar(MetricData metric, LongPointData p, StringBuilder text) {
    text.append(metric.getName()).append(attributes(p.getAttributes())).append(' ')
        .append(format(p.getValue(), metric.getUnit())).append('\n');
  }

  static void histogram(MetricData metric, ExponentialHistogramPointData p, StringBuilder text) {
    String unit = metric.getUnit();
    text.append('\n').append(metric.getName()).append(attributes(p.getAttributes())).append('\n');
    text.append(String.format(Locale.ROOT, "  count %d  sum %s", p.getCount(), format(p.getSum(), unit)));
    if (p.hasMin() && p.hasMax()) {
      text.append("  min ").append(format(p.getMin(), unit)).append("  max ").append(format(p.getMax(), unit));
    }
    if (p.getCount() > 0) {
      text.append("  mean ").append(format(p.getSum() / p.getCount(), unit));
    }
    text.append('\n');
    // Regroup into power-of-two rows: bucket i (scale s) lies in row floor(i / 2^s).
    ExponentialHistogramBuckets buckets = p.getPositiveBuckets();
    int perRow = 1 << Math.max(0, p.getScale());
    TreeMap<Integer, Long> rows = new TreeMap<>();
    List<Long> counts = buckets.getBucketCounts();
    for (int i = 0; i < counts.size(); i++) {
      if (counts.get(i) > 0) {
        rows.merge(Math.floorDiv(buckets.getOffset() + i, perRow), counts.get(i), Long::sum);
      }
    }
    if (p.getZeroCount() > 0) {
      text.append(String.format(Locale.ROOT, "  %-24s %8d |%s|%n", "0", p.getZeroCount(),
          bar(p.getZeroCount(), Math.max(p.getZeroCount(), rows.values().stream().mapToLong(c -> c).max().orElse(0)))));
    }
    if (rows.isEmpty()) {
      return;
    }
    long largest = rows.values().stream().mapToLong(c -> c).max().orElse(1);
    for (int row = rows.firstKey(); row <= rows.lastKey(); row++) {
      long count = rows.getOrDefault(row, 0L);
      // Row r holds (2^r, 2^(r+1)].
      String range = "(" + format(Math.scalb(1.0, row), unit) + ", " + format(Math.scalb(1.0, row + 1), unit) + "]";
      text.append(String.format(Locale.ROOT, "  %-24s %8d |%s|%n", range, count, bar(count, largest)));
    }
  }

  private static String bar(long count, long largest) {
    int n = largest == 0 ? 0 : (int) Math.round((double) count * BAR_WIDTH / largest);
    if (count > 0 && n == 0) {
      n = 1;
    }
    return "@".repeat(n) + " ".repeat(BAR_WIDTH - n);
  }

  static String attributes(Attributes attributes) {
    if (attributes.isEmpty()) {
      return "";
    }
    Map<String, Object> sorted = new TreeMap<>();
    attributes.forEach((k, v) -> sorted.put(k.getKey(), v));
    return sorted.entrySet().stream().map(e -> e.getKey() + "=\"" + e.getValue() + "\"")
        .collect(Collectors.joining(", ", "{", "}"));
  }

  /** A value in its unit, scaled for reading: seconds as ns/us/ms/s, bytes as B/KiB/MiB/GiB. */
  static String format(double value, String unit) {
    if ("s".equals(unit)) {
      double abs = Math.abs(value);
      if (abs == 0) {
        return "0s";
      }
      if (abs < 1e-6) {
        return number(value * 1e9) + "ns";
      }
      if (abs < 1e-3) {
        return number(value * 1e6) + "us";
      }
      if (abs < 1) {
        return number(value * 1e3) + "ms";
      }
      return number(value) + "s";
    }
    if ("By".equals(unit)) {
      String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
      int u = 0;
      double v = value;
      while (Math.abs(v) >= 1024 && u < units.length - 1) {
        v /= 1024;
        u++;
      }
      return number(v) + units[u];
    }
    return number(value) + (unit == null || unit.isEmpty() || unit.startsWith("{") ? "" : unit);
  }

  private static String number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.0f" : Math.abs(v) >= 10 ? "%.1f" : "%.2f", v);
  }
}
