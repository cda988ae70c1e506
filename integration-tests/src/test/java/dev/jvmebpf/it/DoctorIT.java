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
