package dev.jvmebpf.it.workload;

/** Sleeps for the given milliseconds and returns: an application that ends while the agent starts. */
public final class SleepApp {

  public static void main(String[] args) throws Exception {
    Thread.sleep(Long.parseLong(args[0]));
  }
}
