package dev.jvmebpf.bpf.gc;

import dev.jvmebpf.bpf.FamilySnapshot;
import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import java.util.List;

/**
 * What the GC probes aggregated since they were attached.
 *
 * @param collectors one entry per collector (GarbageCollectorMXBean name), plus "other" when
 *     a collection of an unnamed collector was seen
 * @param pools for each pool managed by a collector: its usage after the most recent
 *     collection that reported it, absent until one did
 * @param probes self-telemetry of each program
 */
public record GcSnapshot(List<CollectorDurations> collectors, List<PoolUsage> pools, List<ProbeStats> probes) implements FamilySnapshot {

  /** Durations of a collector's collections, in nanoseconds. */
  public record CollectorDurations(String name, String action, HistogramSnapshot durations) {}

  /** A pool's usage right after the latest collection that touched it. */
  public record PoolUsage(String pool, String type, long usedBytes, long committedBytes) {}
}
