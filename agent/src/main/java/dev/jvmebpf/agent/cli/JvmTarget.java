package dev.jvmebpf.agent.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Another process as the attach, detach, list and doctor commands see it, from /proc only (no
 * attach): whether it is a HotSpot JVM we may attach to, and what it runs.
 *
 * @param uid the process's effective uid
 * @param main its main class or jar, as its command line names it
 * @param javaVersion JAVA_VERSION of its JDK's release file, or "unknown"
 * @param attachDisabled started with -XX:+DisableAttachMechanism
 * @param agentActive our agent's files are mapped in it (its extracted libbpf, not deleted)
 */
record JvmTarget(long pid, int uid, String command, Path libjvm, Optional<Path> libc, String main,
    String javaVersion, boolean attachDisabled, boolean agentActive) {

  /** A process that the commands cannot work with; the message is the whole one-line error. */
  static final class Unusable extends Exception {
    private static final long serialVersionUID = 1L;

    Unusable(String message) {
      super(message);
    }
  }

  /** JVM options that take the next argument as their value. */
  private static final Set<String> OPTIONS_WITH_VALUE = Set.of("-cp", "-classpath", "--class-path", "-p",
      "--module-path", "--upgrade-module-path", "--add-modules", "--add-opens", "--add-exports", "--add-reads",
      "--limit-modules", "--patch-module", "--enable-native-access");

  /** The name of the helper that removes an exited JVM's probes (jeb_shim.c). */
  static final String EXIT_HELPER = "jvm-ebpf-exit";

  static JvmTarget inspect(long pid) throws Unusable {
    Path proc = Path.of("/proc", Long.toString(pid));
    if (pid <= 0 || !Files.isDirectory(proc)) {
      throw new Unusable("no process with pid " + pid);
    }
    String status;
    try {
      status = Files.readString(proc.resolve("status"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new Unusable("no process with pid " + pid);
    }
    String command = field(status, "Name:").orElse("?");
    if (command.equals(EXIT_HELPER)) {
      // It shares the exited JVM's command line and memory map for the moment it holds the probes.
      throw new Unusable("process " + pid + " is jvm-ebpf-agent's exit helper of a JVM that has exited");
    }
    int uid = effectiveUid(status);
    int us = effectiveUid(self());
    if (us != 0 && uid != us) {
      throw new Unusable("process " + pid + " (" + command + ") belongs to " + userName(uid) + ", not to "
          + userName(us) + "; run the command as that user or as root");
    }
    List<String> maps;
    try {
      maps = Files.readAllLines(proc.resolve("maps"), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new Unusable("no process with pid " + pid);
    } catch (AccessDeniedException e) {
      throw new Unusable("cannot read /proc/" + pid + "/maps (" + command + "): permission denied");
    } catch (IOException e) {
      throw new Unusable("cannot read /proc/" + pid + "/maps: " + e.getMessage());
    }
    Path libjvm = null;
    Path libc = null;
    boolean agent = false;
    for (String line : maps) {
      int slash = line.indexOf('/');
      if (slash < 0) {
        continue;
      }
      String path = line.substring(slash);
      String file = Path.of(path.replace(" (deleted)", "")).getFileName().toString();
      if (libjvm == null && file.equals("libjvm.so")) {
        libjvm = Path.of(path);
      } else if (libc == null && (file.equals("libc.so.6") || file.startsWith("libc.so."))) {
        libc = Path.of(path);
      } else if (path.contains("/jvm-ebpf-agent-") && !path.endsWith(" (deleted)")
          && file.startsWith("libbpf-bundled")) {
        agent = true;
      }
    }
    if (libjvm == null) {
      throw new Unusable("process " + pid + " (" + command + ") is not a HotSpot JVM: no libjvm.so in its memory map");
    }
    List<String> args = commandLine(proc);
    boolean disabled = args.contains("-XX:+DisableAttachMechanism")
        || environment(proc, "JAVA_TOOL_OPTIONS").contains("-XX:+DisableAttachMechanism");
    return new JvmTarget(pid, uid, command, libjvm, Optional.ofNullable(libc), mainOf(args),
        javaVersion(libjvm), disabled, agent);
  }

  /** Every process of this machine that is a JVM we may attach to (or read, for list). */
  static List<JvmTarget> all() {
    List<JvmTarget> out = new ArrayList<>();
    try (var dirs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
      for (Path dir : dirs) {
        try {
          out.add(inspect(Long.parseLong(dir.getFileName().toString())));
        } catch (Unusable ignored) {
          // Not a JVM, not ours to attach to, or gone meanwhile.
        }
      }
    } catch (IOException e) {
      return out;
    }
    out.sort((a, b) -> Long.compare(a.pid(), b.pid()));
    return out;
  }

  static String mainOf(List<String> args) {
    for (int i = 1; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("-jar") && i + 1 < args.size()) {
        return args.get(i + 1);
      }
      if ((a.equals("-m") || a.equals("--module")) && i + 1 < args.size()) {
        return args.get(i + 1);
      }
      if (OPTIONS_WITH_VALUE.contains(a)) {
        i++;
        continue;
      }
      if (!a.startsWith("-")) {
        return a;
      }
    }
    return "?";
  }

  private static String javaVersion(Path libjvm) {
    // <java.home>/lib/server/libjvm.so
    Path home = libjvm.getParent() == null || libjvm.getParent().getParent() == null ? null
        : libjvm.getParent().getParent().getParent();
    if (home != null) {
      try {
        for (String line : Files.readAllLines(home.resolve("release"), StandardCharsets.UTF_8)) {
          if (line.startsWith("JAVA_VERSION=")) {
            return line.substring("JAVA_VERSION=".length()).replace("\"", "");
          }
        }
      } catch (IOException ignored) {
        // No release file: a custom image.
      }
    }
    return "unknown";
  }

  private static List<String> commandLine(Path proc) {
    try {
      String raw = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8);
      return List.of(raw.split("\0"));
    } catch (IOException e) {
      return List.of();
    }
  }

  private static String environment(Path proc, String name) {
    try {
      for (String kv : new String(Files.readAllBytes(proc.resolve("environ")), StandardCharsets.UTF_8).split("\0")) {
        if (kv.startsWith(name + "=")) {
          return kv.substring(name.length() + 1);
        }
      }
    } catch (IOException ignored) {
      // Unreadable: nothing known.
    }
    return "";
  }

  private static String self() {
    try {
      return Files.readString(Path.of("/proc/self/status"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static Optional<String> field(String status, String name) {
    return status.lines().filter(l -> l.startsWith(name)).map(l -> l.substring(name.length()).trim()).findFirst();
  }

  /** The effective uid: the second number of the Uid: line. */
  private static int effectiveUid(String status) {
    return field(status, "Uid:").map(v -> v.split("\\s+")).filter(f -> f.length > 1)
        .map(f -> Integer.parseInt(f[1])).orElse(-1);
  }

  static String userName(int uid) {
    try {
      for (String line : Files.readAllLines(Path.of("/etc/passwd"), StandardCharsets.UTF_8)) {
        String[] f = line.split(":");
        if (f.length > 2 && f[2].equals(Integer.toString(uid))) {
          return "user " + f[0] + " (uid " + uid + ")";
        }
      }
    } catch (IOException ignored) {
      // Fall through.
    }
    return "uid " + uid;
  }
}
