package dev.jvmebpf.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code java -jar jvm-ebpf-agent.jar <command>} as a test runs it: exit status, stdout, stderr. */
final class AgentCli {

  record Output(int exitCode, String stdout, String stderr) {
    String text() {
      return stdout + stderr;
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
    }
  }

  private AgentCli() {}

  /** Runs the command with {@code javaHome}'s java, as {@code user} when not null. */
  static Output run(Path javaHome, String user, Path jar, String... args) throws IOException, InterruptedException {
    return run(javaHome, user, jar, List.of(), args);
  }

  /** The same with options for that java. */
  static Output run(Path javaHome, String user, Path jar, List<String> jvmOptions, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    if (user != null) {
      command.addAll(List.of("runuser", "-u", user, "--"));
    }
    command.add(javaHome.resolve("bin/java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", jar.toString()));
    command.addAll(List.of(args));
    Path err = Files.createTempFile("jeb-cli-", ".err");
    try {
      Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(90, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", command) + " did not finish");
      }
      return new Output(p.exitValue(), out, Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(err);
    }
  }
}
