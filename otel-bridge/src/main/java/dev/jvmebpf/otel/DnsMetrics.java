package dev.jvmebpf.otel;

import static io.opentelemetry.api.common.AttributeKey.stringKey;

import dev.jvmebpf.bpf.dns.DnsSnapshot;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code dns.lookup.duration} (semantic conventions): exponential histogram, s, one value per
 * getaddrinfo call, by {@code dns.question.name} and, for failed lookups, {@code error.type}
 * (getaddrinfo's code, e.g. {@code EAI_NONAME}). Names beyond the bound are "other".
 */
public final class DnsMetrics {

  public static final String LOOKUP_DURATION = "dns.lookup.duration";
  public static final AttributeKey<String> QUESTION_NAME = stringKey("dns.question.name");
  public static final AttributeKey<String> ERROR_TYPE = SocketMetrics.ERROR_TYPE;

  private DnsMetrics() {}

  public static List<MetricData> of(DnsSnapshot snapshot, MetricContext context) {
    List<ExponentialHistogramPointData> points = new ArrayList<>();
    for (DnsSnapshot.Lookup lookup : snapshot.lookups()) {
      AttributesBuilder a = Attributes.builder().put(QUESTION_NAME, lookup.name());
      if (lookup.error() != null) {
        a.put(ERROR_TYPE, lookup.error());
      }
      if (lookup.durations().count() > 0) {
        points.add(ExponentialHistograms.point(lookup.durations(), a.build(), context));
      }
    }
    if (points.isEmpty()) {
      return List.of();
    }
    return List.of(ExponentialHistograms.metric(context, LOOKUP_DURATION,
        "Duration of name lookups (getaddrinfo), measured in the kernel.", "s", points));
  }
}
