package dev.jvmebpf.it.workload;

/**
 * An application that runs until it is killed, allocating and collecting now and then, and knows
 * nothing of the agent: the target of attach/detach cycles.
 */
public final class LongRunningApp {

  static volatile Object sink;

  public static void main(String[] args) throws Exception {
    System.out.println("READY");
    long i = 0;
    while (true) {
      for (int k = 0; k < 20_000; k++) {
        sink = new byte[256];
      }
      if (++i % 50 == 0) {
        System.gc();
      }
      Thread.sleep(20);
    }
  }
}
