package dev.jvmebpf.bpf.nativealloc;

import dev.jvmebpf.bpf.FamilySnapshot;
import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import java.util.List;

/**
 * Native allocation through libc since the probes were attached.
 *
 * @param allocators one entry per allocator ("malloc" for malloc/calloc/realloc/posix_memalign,
 *     "mmap")
 * @param probes self-telemetry of each program
 */
public record NativeAllocationSnapshot(List<AllocatorUsage> allocators, List<ProbeStats> probes) implements FamilySnapshot {

  /**
   * @param sizes sizes of the blocks allocated, in bytes (cumulative)
   * @param outstandingBytes bytes allocated since attach and not yet freed (may be negative only
   *     transiently, never in a quiet moment)
   * @param outstandingBlocks blocks allocated since attach and not yet freed
   */
  public record AllocatorUsage(String allocator, HistogramSnapshot sizes, long outstandingBytes,
      long outstandingBlocks) {}
}
