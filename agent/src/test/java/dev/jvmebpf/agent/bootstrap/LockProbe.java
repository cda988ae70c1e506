package dev.jvmebpf.agent.bootstrap;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Another process, for StaleDirectoryTest: "hold FILE" takes a shared lock on FILE and keeps it
 * until its standard input closes (printing "HELD" once it has it); "try FILE" prints "FREE" when
 * an exclusive lock could be taken, "TAKEN" otherwise.
 */
public final class LockProbe {

  public static void main(String[] args) throws Exception {
    try (FileChannel channel = FileChannel.open(Path.of(args[1]), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      if (args[0].equals("hold")) {
        channel.lock(0, Long.MAX_VALUE, true);
        System.out.println("HELD");
        System.out.flush();
        while (System.in.read() >= 0) {
          // until the test closes our input
        }
      } else {
        FileLock lock = channel.tryLock(0, Long.MAX_VALUE, false);
        System.out.println(lock != null ? "FREE" : "TAKEN");
      }
    }
  }
}
