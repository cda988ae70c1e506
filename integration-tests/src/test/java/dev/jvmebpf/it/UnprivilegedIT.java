package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.PlainApp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Without privileges (user nobody) the application runs as it would without the agent: same
 * output, same exit status; the agent says in one line why eBPF is off and how to enable it.
 */
class UnprivilegedIT {

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void applicationRunsUnchangedAndTheAgentSaysWhy(int jdk) throws Exception {
    Path home = Fixtures.jdk(jdk);
    Path copies = Files.createTempDirectory("jeb-nobody-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      TargetJvm.Result plain = TargetJvm.on(home).asUser("nobody", Files.createDirectory(copies.resolve("a")))
          .run(Duration.ofSeconds(60), PlainApp.class, "1500");
      TargetJvm.Result withAgent = TargetJvm.on(home).withAgent(receiver.agentArguments("http/protobuf"))
          .asUser("nobody", Files.createDirectory(copies.resolve("b")))
          .run(Duration.ofSeconds(60), PlainApp.class, "1500");

      assertEquals(42, plain.exitCode(), plain.stderr());
      assertEquals(plain.exitCode(), withAgent.exitCode(), withAgent.stderr());
      assertEquals(plain.stdout(), withAgent.stdout(), "the application's output");
      List<String> lines = withAgent.stderr().lines().toList();
      assertEquals(1, lines.size(), "one line on stderr:\n" + withAgent.stderr());
      String line = lines.get(0);
      System.out.println("JDK " + jdk + " as nobody: " + line);
      assertTrue(line.startsWith("[jvm-ebpf-agent]") && line.contains("eBPF off"), line);
      assertTrue(line.contains("EPERM"), "says why: " + line);
      assertTrue(line.contains("CAP_BPF+CAP_PERFMON") && line.contains("root"), "says how to enable: " + line);
      assertTrue(receiver.latest("jvm.gc.duration").isPresent() || receiver.latest("jvm.ebpf.export.failures")
          .isPresent(), "the degraded mode still exports");
    } finally {
      try (Stream<Path> files = Files.walk(copies)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
