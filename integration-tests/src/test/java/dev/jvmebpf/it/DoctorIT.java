package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import dev.jvmebpf.it.workload.PlainApp;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code java -jar jvm-ebpf-agent.jar doctor}, as root (works) and as nobody (says what is missing). */
class DoctorIT {

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void rootCanUseEbpf(int jdk) throws Exception {
    AgentCli.Output doctor = doctor(Fixtures.jdk(jdk), null, Fixtures.agentJar());
    assertEquals(0, doctor.exitCode(), doctor.text());
    for (String expected : List.of("kernel ", "BTF                  yes", "BPF programs         can be loaded",
        "usdt hotspot:mem__pool__gc__begin       found", "usdt hs_private:safepoint__end          found",
        "symbol SafepointTracing::_current_type", "libc ", "probes gc            attached 4 programs, detached",
        "verdict              eBPF works here")) {
      assertTrue(doctor.text().contains(expected), "doctor says '" + expected + "':\n" + doctor.text());
    }
  }

  /**
   * Families are judged one by one against the kernel's version: on a kernel older than the
   * socket family's minimum (6.2, stood in for by jvm.ebpf.kernel.release) doctor says which
   * family needs what, and eBPF still works (exit 0) since the GC family does; below every
   * family's minimum it does not (exit 1). The agent itself turns that family off alone, with
   * the same reason in its status line.
   */
  @org.junit.jupiter.api.Test
  void familiesAreJudgedOneByOneAgainstTheKernel() throws Exception {
    AgentCli.Output older = AgentCli.run(Fixtures.jdk(17), null, Fixtures.agentJar(),
        List.of("-Djvm.ebpf.kernel.release=6.1.55-test"), "doctor");
    assertEquals(0, older.exitCode(), older.text());
    for (String expected : List.of("probes gc            attached", "probes dns           attached",
        "probes socket        OFF: needs Linux 6.2 or later (bpf_rdonly_cast 6.2", "this kernel is 6.1.55-test",
        "verdict              eBPF works here for the default families but socket")) {
      assertTrue(older.text().contains(expected), "doctor says '" + expected + "':\n" + older.text());
    }
    AgentCli.Output oldest = AgentCli.run(Fixtures.jdk(17), null, Fixtures.agentJar(),
        List.of("-Djvm.ebpf.kernel.release=5.10.0-test"), "doctor");
    assertEquals(1, oldest.exitCode(), oldest.text());
    assertTrue(oldest.text().contains("probes gc            OFF: needs Linux 5.12 or later")
        && oldest.text().contains("eBPF does not work here"), oldest.text());

    TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(17)).withAgent("exporter=none")
        .jvmArgs("-Djvm.ebpf.kernel.release=6.1.55-test").run(java.time.Duration.ofSeconds(60), PlainApp.class, "0");
    assertEquals(42, run.exitCode(), run.stderr());
    assertTrue(run.stderr().contains("eBPF on, probes gc, safepoint, allocation, dns; socket off: needs Linux 6.2 or "
        + "later"), run.stderr());
  }

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void checksAnotherRunningJvm(int jdk) throws Exception {
    TargetJvm.Running target = TargetJvm.on(Fixtures.jdk(jdk)).start(PlainApp.class, "60000");
    try {
      AgentCli.Output doctor = AgentCli.run(Fixtures.jdk(17), null, Fixtures.agentJar(), "doctor",
          Long.toString(target.pid()));
      assertEquals(0, doctor.exitCode(), doctor.toString());
      for (String expected : List.of("doctor, for JVM " + target.pid(), "JVM " + target.pid() + "'s effective: ",
          "usdt hotspot:mem__pool__gc__begin       found", "symbol AllocTracer::send_allocation_outside_tlab",
          "attach               possible", "verdict              the agent can use its probes in JVM " + target.pid())) {
        assertTrue(doctor.text().contains(expected), "doctor says '" + expected + "':\n" + doctor.text());
      }
      // Its own JDK's files, not the JDK running doctor.
      assertTrue(doctor.text().contains(Fixtures.jdk(jdk).toString()), doctor.text());
    } finally {
      target.kill();
    }
  }

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17})
  void nobodyIsToldWhatIsMissing(int jdk) throws Exception {
    Path dir = Files.createTempDirectory("jeb-doctor-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Path jar = Files.copy(Fixtures.agentJar(), dir.resolve("jvm-ebpf-agent.jar"));
    try {
      AgentCli.Output doctor = doctor(Fixtures.jdk(jdk), "nobody", jar);
      assertEquals(1, doctor.exitCode(), doctor.text());
      assertTrue(doctor.text().contains("missing: CAP_BPF CAP_PERFMON"), doctor.text());
      assertTrue(doctor.text().contains("BPF programs         NO: EPERM"), doctor.text());
      assertTrue(doctor.text().contains("eBPF does not work here"), doctor.text());
    } finally {
      Files.deleteIfExists(jar);
      Files.deleteIfExists(dir);
    }
  }

  private static AgentCli.Output doctor(Path javaHome, String user, Path jar) throws IOException, InterruptedException {
    return AgentCli.run(javaHome, user, jar, "doctor");
  }
}
