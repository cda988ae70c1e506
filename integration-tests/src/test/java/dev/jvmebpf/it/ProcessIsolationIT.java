package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.GcWorkload;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Only our own process: a second JVM collecting hard on the same machine, without the agent,
 * is not counted; and once the agent's JVM has exited, none of its programs or links remain
 * (bpftool, during and after; the probes' removal may finish up to a few seconds after the exit,
 * see ExitIT). Ours are the programs with our names that appear once our JVM
 * has started (this bpftool lists no owning pids; the tests run one at a time).
 */
class ProcessIsolationIT {

  /** A program as bpftool lists it. */
  record Program(int id, String name) {
    /** Named as our programs are (the kernel keeps 15 bytes of a name). */
    boolean ours() {
      return name.startsWith("usdt_") || name.startsWith("uprobe_") || name.startsWith("uretprobe_");
    }
  }

  @Test
  void anotherJvmIsNotCountedAndNothingStaysLoaded() throws Exception {
    List<Integer> existing = programs().stream().map(Program::id).toList();
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      TargetJvm.Running noisy = TargetJvm.on(Fixtures.jdk17()).jvmArgs("-XX:+UseSerialGC", "-Xmx64m")
          .start(GcWorkload.class, "15000", "0"); // room for ours to start, run and detach meanwhile
      TargetJvm.Running ours = TargetJvm.on(Fixtures.jdk17()).withAgent(receiver.agentArguments("grpc"))
          .jvmArgs("-XX:+UseSerialGC", "-Xmx512m")
          .start(GcWorkload.class, "3000", "3");
      try {
        // While it runs, bpftool shows our programs, owned by our JVM: the check below can fail.
        List<Program> loaded = awaitPrograms(existing);

        TargetJvm.Result result = ours.await(Duration.ofSeconds(90));
        assertEquals(0, result.exitCode(), result.stderr());
        assertTrue(noisy.isAlive(), "the other JVM was still collecting when ours finished");
        TargetJvm.Result other = noisy.await(Duration.ofSeconds(90));
        long otherCollections = other.beans().values().stream().mapToLong(Long::longValue).sum();
        assertTrue(otherCollections >= 100, "the other JVM collected " + otherCollections + " times");

        Map<String, ExponentialHistogramDataPoint> exported = receiver.gcDurations();
        result.beans().forEach((name, collections) -> assertEquals(collections,
            exported.containsKey(name) ? exported.get(name).getCount() : 0L, "our JVM's own " + name));
        System.out.println("other JVM: " + otherCollections + " collections; ours: " + result.beans());

        List<Integer> ids = loaded.stream().map(Program::id).toList();
        awaitNoProgramsOfOurs(Duration.ofSeconds(10)); // the exit's helper removes them within about 1 s
        List<Program> after = programs();
        assertTrue(after.stream().noneMatch(p -> ids.contains(p.id())), "programs left: " + after);
        assertTrue(after.stream().noneMatch(Program::ours), "programs of ours left: " + after);
        String links = bpftool("link", "show");
        for (int id : ids) {
          assertFalse(Pattern.compile("prog " + id + "\\b").matcher(links).find(), "a link of program " + id + " left");
        }
      } finally {
        if (ours.isAlive()) {
          ours.kill();
        }
        if (noisy.isAlive()) {
          noisy.kill();
        }
      }
    }
  }

  /** The six programs of ours that appear after {@code existing} was listed. */
  private static List<Program> awaitPrograms(List<Integer> existing) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      List<Program> fresh = programs().stream().filter(p -> !existing.contains(p.id()) && p.ours()).toList();
      if (fresh.size() >= 6) {
        return fresh;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the agent's programs never showed up in bpftool: " + programs());
  }

  /** bpftool prog show, parsed: "12: kprobe  name usdt_gc_begin  tag ..." per program. */
  /**
   * Programs of ours still loaded once none are, or {@code within} has passed. A JVM that exited a
   * moment ago leaves its probes to a helper that removes them within about a second; a test that
   * compares the host's programs before and after starts from none of ours.
   */
  static List<Program> awaitNoProgramsOfOurs(Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      List<Program> ours = programs().stream().filter(Program::ours).toList();
      if (ours.isEmpty() || System.nanoTime() > deadline) {
        return ours;
      }
      Thread.sleep(20);
    }
  }

  static List<Program> programs() throws Exception {
    List<Program> out = new ArrayList<>();
    Matcher m = Pattern.compile("^(\\d+): \\S+\\s+(?:name (\\S+))?", Pattern.MULTILINE)
        .matcher(bpftool("prog", "show"));
    while (m.find()) {
      out.add(new Program(Integer.parseInt(m.group(1)), m.group(2) == null ? "" : m.group(2)));
    }
    return out;
  }

  static String bpftool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("bpftool"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("bpftool " + String.join(" ", args) + " failed: " + out);
    }
    return out;
  }
}
