package dev.jvmebpf.it;

import java.util.ArrayList;
import java.util.List;

/**
 * Threads of the test's JVM that spin until closed: a loaded machine, as CI's shared ones are,
 * for the exact-count tests to pass beside. Each does plain arithmetic (no allocation, no system
 * call), so it competes for CPU time only.
 */
final class BusyThreads implements AutoCloseable {

  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stop;
  /** Written so that the loop's work is not dead code. */
  volatile long sink;

  private BusyThreads() {}

  static BusyThreads start(int count) {
    BusyThreads busy = new BusyThreads();
    for (int i = 0; i < count; i++) {
      Thread t = new Thread(busy::spin, "busy-" + i);
      t.setDaemon(true);
      busy.threads.add(t);
      t.start();
    }
    return busy;
  }

  private void spin() {
    long x = 0;
    while (!stop) {
      for (int i = 0; i < 10_000; i++) {
        x = x * 6364136223846793005L + 1442695040888963407L;
      }
      sink = x;
    }
  }

  @Override
  public void close() {
    stop = true;
    for (Thread t : threads) {
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
