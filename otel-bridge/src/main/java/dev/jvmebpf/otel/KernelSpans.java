package dev.jvmebpf.otel;

import static io.opentelemetry.api.common.AttributeKey.stringKey;

import dev.jvmebpf.bpf.dns.DnsEvent;
import dev.jvmebpf.bpf.events.KernelEvent;
import dev.jvmebpf.bpf.events.SpanParent;
import dev.jvmebpf.bpf.gc.GcEvent;
import dev.jvmebpf.bpf.safepoint.SafepointEvent;
import dev.jvmebpf.bpf.socket.SocketEvent;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.SumData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns the families' span events into spans of the agent's tracer, at most {@code perSecond}
 * of each family per second of the events' own (kernel) time; the others are counted in
 * {@code jvm.ebpf.spans.limited}, never silently lost. Called by the one thread that reads the
 * span ring buffer; {@link #metrics} from the exporter's.
 */
public final class KernelSpans {

  public static final String LIMITED = "jvm.ebpf.spans.limited";
  public static final String EMITTED = "jvm.ebpf.spans.emitted";
  public static final AttributeKey<String> FAMILY = stringKey("family");

  private final Tracer tracer;
  private final KernelClock clock;
  private final int perSecond;
  private final Map<String, Window> windows = new TreeMap<>(); // guarded by this

  private static final class Window {
    long second = Long.MIN_VALUE;
    int spans;
    long emitted;
    long limited;
  }

  public KernelSpans(Tracer tracer, KernelClock clock, int perSecond) {
    if (perSecond < 1) {
      throw new IllegalArgumentException("spans per second must be at least 1: " + perSecond);
    }
    this.tracer = tracer;
    this.clock = clock;
    this.perSecond = perSecond;
  }

  public KernelClock clock() {
    return clock;
  }

  /** One event: a span, unless its family already had {@code perSecond} in that second. */
  public void emit(KernelEvent event) {
    synchronized (this) {
      Window w = windows.computeIfAbsent(event.family(), f -> new Window());
      long second = Math.floorDiv(event.endNanos(), 1_000_000_000L);
      if (second != w.second) {
        w.second = second;
        w.spans = 0;
      }
      if (w.spans >= perSecond) {
        w.limited++;
        return;
      }
      w.spans++;
      w.emitted++;
    }
    if (event instanceof GcEvent gc) {
      GcSpans.emit(tracer, clock, gc);
    } else if (event instanceof DnsEvent dns) {
      DnsSpans.emit(tracer, clock, dns);
    } else if (event instanceof SocketEvent socket) {
      SocketSpans.emit(tracer, clock, socket);
    } else if (event instanceof SafepointEvent safepoint) {
      SafepointSpans.emit(tracer, clock, safepoint);
    }
  }

  /**
   * The application span that was current on the event's thread as the builder's parent (same
   * trace, parent span id = that span; a remote parent, since another tracer made it, so the
   * sampler follows its sampled flag), or no parent: a trace of its own.
   */
  static SpanBuilder withParentOf(SpanBuilder builder, KernelEvent event) {
    SpanParent parent = event.parent();
    SpanContext context = parent == null ? SpanContext.getInvalid() : SpanContext.createFromRemoteParent(
        parent.traceId(), parent.spanId(), TraceFlags.fromByte((byte) parent.traceFlags()), TraceState.getDefault());
    return context.isValid() ? builder.setParent(Context.root().with(Span.wrap(context))) : builder.setNoParent();
  }

  /** {@code jvm.ebpf.spans.emitted} and {@code .limited} by family, cumulative. */
  public List<MetricData> metrics(MetricContext context) {
    List<LongPointData> emitted = new ArrayList<>();
    List<LongPointData> limited = new ArrayList<>();
    synchronized (this) {
      windows.forEach((family, w) -> {
        Attributes attributes = Attributes.of(FAMILY, family);
        emitted.add(LongPointData.create(context.startEpochNanos(), context.epochNanos(), attributes, w.emitted));
        limited.add(LongPointData.create(context.startEpochNanos(), context.epochNanos(), attributes, w.limited));
      });
    }
    if (emitted.isEmpty()) {
      return List.of();
    }
    return List.of(counter(context, EMITTED, "Spans the agent made from kernel events.", emitted),
        counter(context, LIMITED, "Kernel events not made spans because their family exceeded its spans per "
            + "second.", limited));
  }

  private static MetricData counter(MetricContext context, String name, String description,
      List<LongPointData> points) {
    return new KernelMetricData(context.resource(), context.scope(), name, description, "{span}",
        MetricDataType.LONG_SUM, SumData.createLongSumData(true, AggregationTemporality.CUMULATIVE, points));
  }
}
