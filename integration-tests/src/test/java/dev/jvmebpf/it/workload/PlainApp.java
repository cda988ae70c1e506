package dev.jvmebpf.it.workload;

import java.util.ArrayList;
import java.util.List;

/**
 * An application that knows nothing of the agent: prints, allocates (so that it collects),
 * exits with status 42. Tests compare its output with and without the agent. Before its own
 * work it waits, silently, until the agent (if any) is on or has given up, so that what the
 * tests see does not depend on how fast this machine starts the agent.
 */
public final class PlainApp {

  public static void main(String[] args) throws Exception {
    Agent.awaitStatus();
    System.out.println("plain app starting");
    List<byte[]> keep = new ArrayList<>();
    long checksum = 0;
    for (int i = 0; i < 200_000; i++) {
      byte[] b = new byte[1024];
      b[0] = (byte) i;
      checksum += b[0];
      if (i % 100 == 0) {
        keep.add(b);
      }
    }
    System.out.println("kept " + keep.size() + " checksum " + checksum);
    if (args.length > 0) {
      Thread.sleep(Long.parseLong(args[0]));
    }
    System.exit(42);
  }
}
