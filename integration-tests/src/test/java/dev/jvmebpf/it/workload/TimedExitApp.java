package dev.jvmebpf.it.workload;

/**
 * Waits until the agent (if any) is on, prints the wall-clock time just before it ends, then
 * returns from main ({@code return}) or calls {@code System.exit(0)} ({@code exit}): a test
 * then sees how long the JVM took to exit after the application was done. With a second argument
 * {@code listen} it first opens a listening socket on a free loopback port, prints it as
 * {@code PORT}, and leaves it open for the JVM's exit to close.
 */
public final class TimedExitApp {

  public static void main(String[] args) throws Exception {
    System.out.println("STATUS " + Agent.awaitStatus());
    if (args.length > 1 && args[1].equals("listen")) {
      java.net.ServerSocket held = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
      System.out.println("PORT " + held.getLocalPort());
    }
    System.out.println("MAIN_END " + System.currentTimeMillis());
    System.out.flush();
    if (args.length > 0 && args[0].equals("exit")) {
      System.exit(0);
    }
  }
}
