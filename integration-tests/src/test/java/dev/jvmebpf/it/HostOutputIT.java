package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.GcWorkload;
import dev.jvmebpf.it.workload.PlainApp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the application and its user see of the agent: the same stdout and exit status, one
 * status line on stderr and nothing else (no JDK warnings about native access or
 * sun.misc.Unsafe, on JDK 25 in particular), and a premain that returns at once.
 */
class HostOutputIT {

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void onlyOneStatusLineOnStderr(int jdk) throws Exception {
    Path home = Fixtures.jdk(jdk);
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      TargetJvm.Result plain = TargetJvm.on(home).run(Duration.ofSeconds(60), PlainApp.class, "1500");
      TargetJvm.Result withAgent = TargetJvm.on(home).withAgent(receiver.agentArguments("http/protobuf"))
          .run(Duration.ofSeconds(60), PlainApp.class, "1500");
      assertEquals(42, withAgent.exitCode(), withAgent.stderr());
      assertEquals(plain.stdout(), withAgent.stdout(), "the application's output");
      assertEquals(1, withAgent.stderr().lines().count(), "exactly one line on stderr:\n" + withAgent.stderr());
      assertTrue(withAgent.stderr().startsWith("[jvm-ebpf-agent] jvm-ebpf-agent ")
          && withAgent.stderr().contains("eBPF on"), withAgent.stderr());
      assertTrue(receiver.latest("jvm.ebpf.probe.events").isPresent(), "and it exported");
    }
  }

  /**
   * The two ways the bootstrap defines bpf-uprobes' module (the code that calls our JNI library):
   * straight into its class loader, the default, and in a ModuleLayer of its own, the way taken
   * where the JDK lacks the internal API the first takes (forced here by a system property). On
   * JDK 25 either must leave the JDK nothing to warn about native access, and the agent on.
   */
  @ParameterizedTest(name = "layer {0}")
  @ValueSource(booleans = {false, true})
  void eitherWayOfDefiningTheNativeModuleLeavesNoWarning(boolean layer) throws Exception {
    TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(25)).withAgent("exporter=none,debug=true")
        .jvmArgs("-Djvm.ebpf.agent.module.layer=" + layer)
        .run(Duration.ofSeconds(60), PlainApp.class, "1500");
    assertEquals(42, run.exitCode(), run.stderr());
    String expected = layer ? "bpf-uprobes is a module of a ModuleLayer of its own"
        : "bpf-uprobes is a named module defined to its own class loader";
    assertTrue(run.stderr().lines().anyMatch(l -> l.endsWith(expected)), expected + ":\n" + run.stderr());
    assertTrue(run.stderr().lines().allMatch(l -> l.startsWith("[jvm-ebpf-agent] ")), "only our lines:\n" + run.stderr());
    assertTrue(run.stderr().contains("eBPF on, probes gc, safepoint, allocation, socket, dns"), run.stderr());
  }

  /**
   * An application that ends while the agent is still starting (issue 13, item 9): nothing
   * failed, so nothing may say so. Its output and exit status are its own, and the agent prints
   * nothing, or its status line if it was on in time: never "eBPF off (stopping)", whose
   * "jvm.gc.duration comes from the GC MXBeans meanwhile" misled. Ends at 0, 100, 300 and 600 ms,
   * before and during the agent's start on this machine.
   */
  @Test
  void anApplicationEndingDuringTheStartGetsNoMisleadingLine() throws Exception {
    for (String millis : List.of("0", "100", "300", "600")) {
      TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(17)).withAgent("exporter=none")
          .run(Duration.ofSeconds(60), dev.jvmebpf.it.workload.QuickApp.class, millis);
      assertEquals(0, run.exitCode(), millis + " ms: " + run.stderr());
      assertEquals("quick app done", run.stdout().strip(), millis + " ms");
      for (String line : run.stderr().lines().toList()) {
        assertTrue(line.startsWith("[jvm-ebpf-agent] jvm-ebpf-agent ") && line.contains(": eBPF on, probes "),
            millis + " ms: only the status line of an agent that was on, if any:\n" + run.stderr());
      }
    }
  }

  /**
   * A backend that never answers in time: the SDK's own warnings ("Exporter timed out") stay off
   * the host's stderr; the agent says once that exporting fails.
   */
  @Test
  void unreachableBackendGivesOneLineNotTheSdksWarnings() throws Exception {
    // 192.0.2.1 (TEST-NET-1) does not answer: connects time out, exports outlast the interval.
    TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(17))
        .withAgent("protocol=grpc,endpoint=http://192.0.2.1:4317,interval=1s,otel.exporter.otlp.timeout=3000")
        .run(Duration.ofSeconds(60), PlainApp.class, "7000");
    assertEquals(42, run.exitCode(), run.stderr());
    List<String> lines = run.stderr().lines().toList();
    assertTrue(lines.stream().allMatch(l -> l.startsWith("[jvm-ebpf-agent] ")), "only our lines:\n" + run.stderr());
    assertTrue(lines.size() <= 3, "at most the status, export failing and the exit's flush:\n" + run.stderr());
  }

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void premainReturnsInWellUnder50Milliseconds(int jdk) throws Exception {
    Path home = Fixtures.jdk(jdk);
    long worst = 0;
    for (int i = 0; i < 3; i++) {
      TargetJvm.Result run = TargetJvm.on(home).withAgent("exporter=none")
          .run(Duration.ofSeconds(60), GcWorkload.class, "0", "0");
      assertEquals(0, run.exitCode(), run.stderr());
      worst = Math.max(worst, Long.parseLong(run.value("PREMAIN_NANOS")));
    }
    System.out.printf("JDK %d: premain took at most %.2f ms over 3 runs%n", jdk, worst / 1e6);
    assertTrue(worst < 50_000_000L, "premain took " + worst / 1e6 + " ms");
  }
}
