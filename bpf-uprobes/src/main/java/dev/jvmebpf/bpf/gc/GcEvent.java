package dev.jvmebpf.bpf.gc;

import dev.jvmebpf.bpf.events.KernelEvent;

/**
 * One collection (as its GarbageCollectorMXBean counts it) or one pause of a "... Pauses"
 * collector, from the span ring buffer.
 *
 * @param collector the collector's name, as its MXBean's; "other" for one the agent did not know
 * @param action the MXBean's GC action, e.g. "end of minor GC"
 * @param pause whether this is a pause of a concurrent collector (ZGC, Shenandoah) rather than a
 *     collection
 * @param startNanos CLOCK_MONOTONIC when the first memory pool's collection began (or the pause)
 * @param endNanos when the first pool's ended (or the pause)
 * @param tid the collecting thread
 */
public record GcEvent(String collector, String action, boolean pause, long startNanos, long endNanos, int tid)
    implements KernelEvent {

  @Override
  public String family() {
    return "gc";
  }
}
