package dev.jvmebpf.agent;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/** Wall and CPU time of one step of the start or the stop on the current thread, for the debug log. */
final class StartCost {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private StartCost() {}

  static long threadCpuNanos() {
    try {
      return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : -1;
    } catch (UnsupportedOperationException e) {
      return -1;
    }
  }

  /** "12 ms (CPU 10 ms)" since the two readings taken before the step. */
  static String since(long nanoTimeBefore, long cpuBefore) {
    long wall = (System.nanoTime() - nanoTimeBefore) / 1_000_000;
    long cpu = threadCpuNanos();
    return wall + " ms" + (cpu >= 0 && cpuBefore >= 0 ? " (CPU " + (cpu - cpuBefore) / 1_000_000 + " ms)" : "");
  }
}
