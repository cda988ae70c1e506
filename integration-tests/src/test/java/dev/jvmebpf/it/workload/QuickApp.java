package dev.jvmebpf.it.workload;

/**
 * An application that does not wait for the agent: prints one line and ends after the given
 * milliseconds, while the agent may still be starting.
 */
public final class QuickApp {

  public static void main(String[] args) throws Exception {
    Thread.sleep(Long.parseLong(args[0]));
    System.out.println("quick app done");
  }
}
