package dev.jvmebpf.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.libbpf.Libbpf;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import net.bytebuddy.agent.VirtualMachine;
import org.junit.jupiter.api.Test;

/**
 * Reading a target's properties while the target clears one: the JDK's own answer is the oracle
 * (its attach listener fails such a request with a NullPointerException; the command must ask again).
 */
class AttachCommandTest {

  /** A JVM that sets and clears one property as fast as it can, as the agent does once while it starts. */
  public static final class Toggler {
    public static void main(String[] args) throws Exception {
      System.out.println("ready");
      System.out.flush();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[0]));
      while (System.nanoTime() < end) {
        System.setProperty("jeb.toggled", "x");
        System.clearProperty("jeb.toggled");
      }
    }
  }

  @Test
  void aPropertyClearedDuringTheRequestIsAskedAgain() throws Exception {
    Path dir = Files.createTempDirectory("jeb-attach-test-");
    Process target = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-cp", System.getProperty("java.class.path"), Toggler.class.getName(), "120")
        .redirectErrorStream(true).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("ready", out.readLine(), "the target started");
      VirtualMachine vm = AttachConnection.open(target.pid(), Libbpf.load(dir));
      try {
        int raced = 0;
        int direct = 0;
        while (raced < 3 && direct < 3000) {
          direct++;
          try {
            vm.getSystemProperties();
          } catch (IllegalStateException e) {
            assertTrue(AttachCommand.isClearedPropertyRace(e), "the target's answer: " + e.getMessage());
            raced++;
          }
        }
        assertTrue(raced > 0, "the JDK's race shows in " + direct + " direct requests (else this test proves nothing)");
        for (int i = 0; i < 200; i++) {
          Properties p = AttachCommand.properties(vm);
          assertTrue(p.getProperty("java.home") != null, "a whole answer");
        }
        System.out.printf("%d of %d direct requests failed in the target; 200 of 200 through the command%n", raced, direct);
      } finally {
        vm.detach();
      }
    } finally {
      target.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      try (var files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void anyOtherFailureIsNotAskedAgain() {
    int[] calls = {0};
    VirtualMachine failing = new FailingVm(calls, "Protocol mismatch");
    assertThrows(IllegalStateException.class, () -> AttachCommand.properties(failing));
    assertEquals(1, calls[0]);
    VirtualMachine racing = new FailingVm(calls, "java.lang.NullPointerException\n");
    calls[0] = 0;
    assertThrows(IllegalStateException.class, () -> AttachCommand.properties(racing));
    assertEquals(AttachCommand.PROPERTIES_ATTEMPTS, calls[0], "asked again, a bounded number of times");
  }

  private record FailingVm(int[] calls, String answer) implements VirtualMachine {
    @Override
    public Properties getSystemProperties() {
      calls[0]++;
      throw new IllegalStateException(answer);
    }

    @Override
    public Properties getAgentProperties() {
      throw new UnsupportedOperationException();
    }

    @Override
    public void loadAgent(String jarFile) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void loadAgent(String jarFile, String argument) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void loadAgentPath(String path) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void loadAgentPath(String path, String argument) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void loadAgentLibrary(String library) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void loadAgentLibrary(String library, String argument) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void startManagementAgent(Properties properties) {
      throw new UnsupportedOperationException();
    }

    @Override
    public String startLocalManagementAgent() {
      throw new UnsupportedOperationException();
    }

    @Override
    public void detach() {}
  }
}
