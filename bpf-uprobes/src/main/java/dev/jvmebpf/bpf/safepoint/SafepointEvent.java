package dev.jvmebpf.bpf.safepoint;

import dev.jvmebpf.bpf.events.KernelEvent;

/**
 * One safepoint over the span threshold, from the span ring buffer.
 *
 * @param operation the VM operation (e.g. "G1CollectForAllocation"), "other" when unknown
 * @param syncNanos time to safepoint, -1 when unknown
 */
public record SafepointEvent(String operation, long syncNanos, long startNanos, long endNanos, int tid)
    implements KernelEvent {

  @Override
  public String family() {
    return "safepoint";
  }
}
