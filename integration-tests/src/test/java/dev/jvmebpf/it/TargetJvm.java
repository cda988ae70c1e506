package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A JVM the tests start: a chosen JDK, optionally our agent, a workload main class from these
 * tests' classes. Output goes to files (no pipe can fill up); a run that outlives its timeout is
 * killed, by pid, and fails the test.
 */
final class TargetJvm {

  /** How a run ended. */
  record Result(int exitCode, String stdout, String stderr, long pid) {
    /** Lines of stdout starting with {@code key + " "}, without the key. */
    List<String> values(String key) {
      List<String> out = new ArrayList<>();
      for (String line : stdout.split("\n")) {
        if (line.startsWith(key + " ")) {
          out.add(line.substring(key.length() + 1));
        }
      }
      return out;
    }

    String value(String key) {
      List<String> all = values(key);
      if (all.size() != 1) {
        fail("expected one '" + key + "' line in the workload's output, got " + all.size() + "\nstdout:\n" + stdout
            + "\nstderr:\n" + stderr);
      }
      return all.get(0);
    }

    /** Lines "key name\tvalue" of stdout as a map from name to value. */
    Map<String, String> table(String key) {
      Map<String, String> out = new TreeMap<>();
      for (String line : values(key)) {
        String[] f = line.split("\t");
        out.put(f[0], f[1]);
      }
      return out;
    }

    /** The workload's "BEAN collector\tcollections" lines: the MXBeans' counts for its window. */
    Map<String, Long> beans() {
      Map<String, Long> out = new TreeMap<>();
      table("BEAN").forEach((name, count) -> out.put(name, Long.parseLong(count)));
      return out;
    }
  }

  private final Path javaHome;
  private final List<String> jvmArgs = new ArrayList<>();
  private final List<String> firstJvmArgs = new ArrayList<>();
  private String agentArgs;
  private boolean withAgent;
  private String user;
  private boolean pidNamespace;
  private boolean busy;
  private Path agentJar = Fixtures.agentJar();
  private Path classes = Fixtures.testClasses();
  private String extraClassPath = "";

  private TargetJvm(Path javaHome) {
    this.javaHome = javaHome;
  }

  static TargetJvm on(Path javaHome) {
    return new TargetJvm(javaHome);
  }

  TargetJvm withAgent(String arguments) {
    this.withAgent = true;
    this.agentArgs = arguments;
    return this;
  }

  /** More class path entries for the application, after the workloads' classes. */
  TargetJvm extraClassPath(String entries) {
    this.extraClassPath = entries;
    return this;
  }

  TargetJvm jvmArgs(String... args) {
    jvmArgs.addAll(List.of(args));
    return this;
  }

  /** JVM arguments before our agent's (another agent that must start first, for example). */
  TargetJvm firstJvmArgs(String... args) {
    firstJvmArgs.addAll(List.of(args));
    return this;
  }

  /** Runs as another user, from copies of the agent jar and classes that user can read. */
  TargetJvm asUser(String name, Path readableCopies) throws IOException {
    this.user = name;
    this.agentJar = Files.copy(agentJar, readableCopies.resolve("jvm-ebpf-agent.jar"));
    Path copied = readableCopies.resolve("classes");
    try (var files = Files.walk(classes)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path target = copied.resolve(classes.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    this.classes = copied;
    return this;
  }

  /**
   * Runs the JVM as a container would: in a pid namespace of its own, where it is pid 1 and
   * /proc shows that namespace ({@code unshare --pid --fork --mount-proc}), with its own
   * java.io.tmpdir.
   */
  TargetJvm inPidNamespace() {
    this.pidNamespace = true;
    return this;
  }

  /**
   * Runs the JVM while {@link #BUSY_PER_CPU} threads per CPU of this (the test's) JVM spin beside
   * it, competing with the workload and the agent for every CPU, from its start to its end.
   */
  TargetJvm besideBusyThreads() {
    this.busy = true;
    return this;
  }

  static final int BUSY_PER_CPU = 2;

  /** "host", "pidns" or "busy", for parameterized tests: where the JVM runs, and beside what. */
  TargetJvm in(String where) {
    return switch (where) {
      case "host" -> this;
      case "pidns" -> inPidNamespace();
      case "busy" -> besideBusyThreads();
      default -> throw new IllegalArgumentException("where: host, pidns or busy, not " + where);
    };
  }

  private List<String> command(Path tmpdir, Class<?> main, String... args) {
    List<String> command = new ArrayList<>();
    if (user != null) {
      command.addAll(List.of("runuser", "-u", user, "--"));
    }
    if (pidNamespace) {
      command.addAll(List.of("unshare", "--pid", "--fork", "--mount-proc"));
    }
    command.add(javaHome.resolve("bin/java").toString());
    command.addAll(firstJvmArgs);
    if (withAgent) {
      command.add("-javaagent:" + agentJar + (agentArgs == null || agentArgs.isEmpty() ? "" : "=" + agentArgs));
    }
    if (tmpdir != null) {
      command.add("-Djava.io.tmpdir=" + tmpdir);
    }
    command.addAll(jvmArgs);
    String classPath = classes + (extraClassPath.isEmpty() ? "" : java.io.File.pathSeparator + extraClassPath);
    command.addAll(List.of("-cp", classPath, main.getName()));
    command.addAll(List.of(args));
    return command;
  }

  /** Starts the JVM; the caller waits with {@link Running#await}. */
  Running start(Class<?> main, String... args) throws IOException {
    Path out = Files.createTempFile("jeb-it-", ".out");
    Path err = Files.createTempFile("jeb-it-", ".err");
    Path tmpdir = pidNamespace ? Files.createTempDirectory("jeb-it-pidns-") : null;
    ProcessBuilder builder = new ProcessBuilder(command(tmpdir, main, args))
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    BusyThreads beside = busy ? BusyThreads.start(BUSY_PER_CPU * Runtime.getRuntime().availableProcessors()) : null;
    Running running;
    try {
      running = new Running(builder.start(), out, err, tmpdir, beside);
    } catch (IOException | RuntimeException e) {
      if (beside != null) {
        beside.close();
      }
      throw e;
    }
    if (pidNamespace) {
      running.awaitOwnPidNamespace();
    }
    return running;
  }

  Result run(Duration timeout, Class<?> main, String... args) throws Exception {
    return start(main, args).await(timeout);
  }

  /** A started JVM; its output files (and private temp directory) are deleted however it ends. */
  static final class Running {
    private final Process process;
    private final Path out;
    private final Path err;
    private final Path tmpdir;
    private final BusyThreads beside;

    Running(Process process, Path out, Path err, Path tmpdir, BusyThreads beside) {
      this.process = process;
      this.out = out;
      this.err = err;
      this.tmpdir = tmpdir;
      this.beside = beside;
    }

    long pid() {
      return process.pid();
    }

    /**
     * Fails unless unshare's child (the JVM) runs in another pid namespace than ours: a run
     * meant for a namespace must not pass on the host by mistake.
     */
    void awaitOwnPidNamespace() throws IOException {
      Path ours = Files.readSymbolicLink(Path.of("/proc/self/ns/pid"));
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (System.nanoTime() < deadline) {
        for (ProcessHandle child : (Iterable<ProcessHandle>) process.descendants()::iterator) {
          try {
            Path theirs = Files.readSymbolicLink(Path.of("/proc/" + child.pid() + "/ns/pid"));
            if (theirs.equals(ours)) {
              kill0();
              fail("unshare's child " + child.pid() + " runs in our pid namespace " + ours);
            }
            return;
          } catch (IOException gone) {
            // Not yet readable, or it ended: look again.
          }
        }
        if (!process.isAlive()) {
          return; // await() reports how it ended
        }
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          kill0();
          fail("interrupted while waiting for unshare's child");
        }
      }
      kill0();
      fail("unshare started no child within 10 s");
    }

    private void kill0() throws IOException {
      try {
        kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    boolean isAlive() {
      return process.isAlive();
    }

    /** What the JVM printed on stdout so far. */
    String stdoutSoFar() throws IOException {
      return read(out);
    }

    /** What the JVM printed on stderr so far (the agent's status lines). */
    String stderrSoFar() throws IOException {
      return read(err);
    }

    Result await(Duration timeout) throws Exception {
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          kill();
          fail("the JVM (pid " + process.pid() + ") ran longer than " + timeout + "; killed\nstdout:\n"
              + read(out) + "\nstderr:\n" + read(err));
        }
        return new Result(process.exitValue(), read(out), read(err), process.pid());
      } finally {
        if (beside != null) {
          beside.close();
        }
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
        deleteTree(tmpdir);
      }
    }

    /** Ends the process and its descendants (e.g. runuser's java), by pid, and deletes its output. */
    void kill() throws InterruptedException, IOException {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      if (beside != null) {
        beside.close();
      }
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      deleteTree(tmpdir);
    }

    private static void deleteTree(Path dir) throws IOException {
      if (dir == null || !Files.exists(dir)) {
        return;
      }
      try (var files = Files.walk(dir)) {
        for (Path p : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
          Files.deleteIfExists(p);
        }
      }
    }

    private static String read(Path file) throws IOException {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }
  }
}
