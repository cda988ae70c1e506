package dev.jvmebpf.bpf.process;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** This process's sockets as /proc shows them. */
public final class ProcessSockets {

  private static final String LISTEN = "0A";

  private ProcessSockets() {}

  /** Local ports of the TCP sockets (IPv4 and IPv6) this process listens on. */
  public static Set<Integer> listeningTcpPorts() throws IOException {
    return listeningTcpPorts(Path.of("/proc/self"));
  }

  static Set<Integer> listeningTcpPorts(Path proc) throws IOException {
    Set<Long> ours = socketInodes(proc.resolve("fd"));
    Set<Integer> ports = new TreeSet<>();
    for (String table : List.of("net/tcp", "net/tcp6")) {
      Path file = proc.resolve(table);
      if (!Files.isReadable(file)) {
        continue; // no IPv6 in this kernel
      }
      for (String line : Files.readAllLines(file)) {
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
        String[] f = line.trim().split("\\s+");
        if (f.length < 10 || !f[3].equals(LISTEN) || !f[0].endsWith(":")) {
          continue;
        }
        long inode = Long.parseLong(f[9]);
        if (ours.contains(inode)) {
          String local = f[1];
          ports.add(Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16));
        }
      }
    }
    return ports;
  }

  /** Inodes of the sockets among a process's descriptors ("socket:[inode]" links). */
  static Set<Long> socketInodes(Path fdDir) throws IOException {
    Set<Long> out = new HashSet<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(fdDir)) {
      for (Path fd : fds) {
        String target;
        try {
          target = Files.readSymbolicLink(fd).toString();
        } catch (IOException closedMeanwhile) {
          continue;
        }
        if (target.startsWith("socket:[") && target.endsWith("]")) {
          out.add(Long.parseLong(target.substring(8, target.length() - 1)));
        }
      }
    }
    return out;
  }
}
