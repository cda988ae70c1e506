package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.PlainApp;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A JVM that runs a sampling profiler besides the agent: async-profiler's native agent, sampling
 * each thread's CPU every millisecond with a signal to that thread. The kernel's verifier gives up
 * on a program (EAGAIN) whenever a signal is pending for the loading thread, so without care every
 * family failed to load in such a JVM ("gc off: load BPF object gc: EAGAIN ..."). Oracles: the
 * profiler's own output has samples of the agent's loading thread (it was signalled), the status
 * line names every default family as on, and the families' event counters are exported.
 */
class ProfilerIT {

  /**
   * The same care must not block the JVM's own faults: compiled Java code polls for safepoints by
   * touching a page the JVM protects, and a SIGSEGV blocked there kills the process (no hs_err
   * file, exit status 139). That happened when libbpf's messages during a load were handed to Java
   * at once (seen once in `make bench`'s javac run; 8 of 10 runs with a safepoint every
   * millisecond and debug's messages). Oracle: the JVM's exit status and the status line, in
   * three runs per JDK.
   */
  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void theStartSurvivesSafepointsEveryMillisecond(int jdk) throws Exception {
    for (int run = 1; run <= 3; run++) {
      TargetJvm.Result result = TargetJvm.on(Fixtures.jdk(jdk))
          .jvmArgs("-XX:+UnlockDiagnosticVMOptions", "-XX:+SafepointALot", "-XX:GuaranteedSafepointInterval=1",
              "-Xmx64m")
          .withAgent("exporter=none,debug=true")
          .run(Duration.ofSeconds(90), PlainApp.class, "200");
      assertEquals(42, result.exitCode(), "run " + run + ": the application's own exit status, not a crash's:\n"
          + tail(result.stderr()));
      assertTrue(result.stderr().contains("eBPF on, probes gc, safepoint, allocation, socket, dns;"), tail(result.stderr()));
    }
  }

  private static String tail(String text) {
    List<String> lines = text.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
  }

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void everyFamilyLoadsWhileAProfilerSignalsEachMillisecond(int jdk) throws Exception {
    Path dir = Files.createTempDirectory("jeb-profiler-");
    Path profiler = dir.resolve("libasyncProfiler.so");
    try (InputStream in = ProfilerIT.class.getClassLoader().getResourceAsStream("linux-x64/libasyncProfiler.so");
        OtlpReceiver receiver = new OtlpReceiver()) {
      assertTrue(in != null, "async-profiler's jar holds its linux-x64 library");
      Files.copy(in, profiler, StandardCopyOption.REPLACE_EXISTING);
      TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(jdk))
          .jvmArgs("-agentpath:" + profiler + "=start,event=cpu,interval=1ms,threads,collapsed,file="
              + dir.resolve("profile.txt"))
          .withAgent(receiver.agentArguments("http/protobuf"))
          .run(Duration.ofSeconds(90), PlainApp.class, "500");
      assertEquals(42, run.exitCode(), run.stderr());
      String profile = Files.readString(dir.resolve("profile.txt"));
      assertTrue(profile.lines().anyMatch(l -> l.startsWith("[jvm-ebpf-agent-init")),
          "the profiler sampled the thread that loads the programs:\n" + run.stdout() + run.stderr());
      String status = run.stderr().lines().filter(l -> l.startsWith("[jvm-ebpf-agent]")).findFirst().orElse("");
      assertTrue(status.contains("eBPF on, probes gc, safepoint, allocation, socket, dns;") && !status.contains(" off"),
          "every default family on:\n" + run.stderr());
      assertTrue(receiver.latest("jvm.ebpf.probe.events").isPresent(), "and it exported");
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          Files.delete(p);
        }
      }
      Files.delete(dir);
    }
  }
}
