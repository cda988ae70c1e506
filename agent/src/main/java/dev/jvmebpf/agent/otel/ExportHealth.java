package dev.jvmebpf.agent.otel;

import dev.jvmebpf.agent.AgentLog;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Wraps the configured exporter to count exports that failed (backend unreachable, refused)
 * and say so once, then once more when exports succeed again, instead of logging each failure.
 * Nothing is queued: with cumulative temporality (the default) the next export carries every
 * count anyway; with delta the failed interval is lost and counted here.
 */
public final class ExportHealth implements MetricExporter {

  private final MetricExporter delegate;
  private final AgentLog log;
  private final String destination;
  private final AtomicLong failures = new AtomicLong();
  private volatile boolean failing;

  ExportHealth(MetricExporter delegate, AgentLog log, String destination) {
    this.delegate = delegate;
    this.log = log;
    this.destination = destination;
  }

  public long failures() {
    return failures.get();
  }

  @Override
  public CompletableResultCode export(Collection<MetricData> metrics) {
    CompletableResultCode result;
    try {
      result = delegate.export(metrics);
    } catch (RuntimeException e) {
      onFailure(e.toString());
      return CompletableResultCode.ofFailure();
    }
    result.whenComplete(() -> {
      if (result.isSuccess()) {
        if (failing) {
          failing = false;
          log.status("exporting to " + destination + " works again (" + failures.get() + " exports failed)");
        }
      } else {
        Throwable why = result.getFailureThrowable();
        onFailure(why == null ? "no details" : why.getMessage());
      }
    });
    return result;
  }

  private void onFailure(String why) {
    failures.incrementAndGet();
    if (!failing) {
      failing = true;
      log.status("export to " + destination + " failed (" + why + "); will keep trying every interval, "
          + "counting failures in jvm.ebpf.export.failures");
    }
  }

  @Override
  public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
    return delegate.getAggregationTemporality(instrumentType);
  }

  @Override
  public CompletableResultCode flush() {
    return delegate.flush();
  }

  @Override
  public CompletableResultCode shutdown() {
    return delegate.shutdown();
  }
}
