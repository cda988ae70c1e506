package dev.jvmebpf.bpf.heapalloc;

import dev.jvmebpf.bpf.FamilySnapshot;
import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import java.util.List;

/**
 * Heap allocation seen since the probes were attached; every figure is cumulative.
 *
 * @param tlabSizes sizes of the new TLABs the threads took, in bytes
 * @param classes per class (bounded; "other" for the rest): outside-TLAB sizes and bytes
 * @param threads per thread name (bounded; "other" for the rest): bytes allocated
 * @param probes self-telemetry of each program
 */
public record AllocationSnapshot(HistogramSnapshot tlabSizes, List<ClassAllocation> classes,
    List<ThreadAllocation> threads, List<ProbeStats> probes) implements FamilySnapshot {

  /**
   * Allocation credited to one class. {@code outsideTlabSizes} and {@code outsideTlabBytes}
   * are exact; {@code tlabBytes} is what was used of the TLABs that an object of this class
   * opened: an estimate of the class's share of TLAB allocation, sampled by bytes.
   */
  public record ClassAllocation(String className, HistogramSnapshot outsideTlabSizes, long tlabBytes,
      long outsideTlabBytes) {
    public long bytes() {
      return tlabBytes + outsideTlabBytes;
    }
  }

  /**
   * Heap bytes the threads of one name allocated, as HotSpot counts them for
   * ThreadMXBean.getThreadAllocatedBytes: each ended thread's whole count since the probes saw
   * it first, each live thread's count at its last new TLAB or outside-TLAB allocation.
   */
  public record ThreadAllocation(String threadName, long bytes) {}
}
