package dev.jvmebpf.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Wall and CPU time of one step of the start or the stop on the current thread, for the debug log. */
final class StartCost {

  /** The calling thread's scheduler statistics: CPU time (ns), then wait time and time slices. */
  private static final Path SCHEDSTAT = Path.of("/proc/thread-self/schedstat");

  /** Whether steps are measured: with debug on only, whose lines are the only reader. */
  private static volatile boolean measured;

  private StartCost() {}

  /** Measures the steps from now on (debug on), or not; without, a reading costs nothing. */
  static void measure(boolean on) {
    measured = on;
  }

  /**
   * The calling thread's CPU time in nanoseconds, -1 when unknown or not {@link #measure measured}
   * (a dozen readings of the file cost the start about 5 ms). Read from the kernel's scheduler
   * statistics rather than ThreadMXBean, whose management classes cost about 20 ms to load.
   */
  static long threadCpuNanos() {
    if (!measured) {
      return -1;
    }
    try {
      String stat = Files.readString(SCHEDSTAT);
      int end = stat.indexOf(' ');
      return Long.parseLong(end < 0 ? stat.trim() : stat.substring(0, end));
    } catch (IOException | RuntimeException e) {
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
