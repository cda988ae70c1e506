package dev.jvmebpf.bpf.safepoint;

import dev.jvmebpf.bpf.FamilySnapshot;
import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import java.util.List;

/**
 * What the safepoint probes aggregated since they were attached, by VM operation.
 *
 * @param operations one entry per VM operation seen ("other" for unknown or over the bound)
 * @param probes self-telemetry of each program
 */
public record SafepointSnapshot(List<OperationDurations> operations, List<ProbeStats> probes) implements FamilySnapshot {

  /**
   * Safepoints of one VM operation, in nanoseconds: the whole pause, and the time it took for
   * every Java thread to stop (time to safepoint). {@code timeToSafepoint} is empty when the
   * JVM does not publish it.
   */
  public record OperationDurations(String operation, HistogramSnapshot total, HistogramSnapshot timeToSafepoint) {}
}
