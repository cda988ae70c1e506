package dev.jvmebpf.otel;

import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;

/**
 * What every metric of one collection shares: resource, scope, and the time window of the
 * cumulative points (from when the probes started counting to now), in epoch nanoseconds.
 */
public record MetricContext(Resource resource, InstrumentationScopeInfo scope, long startEpochNanos,
    long epochNanos) {}
