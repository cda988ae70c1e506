package dev.jvmebpf.agent.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The resource attributes the agent derives itself, against the JDK's and the kernel's own figures. */
class AgentResourceTest {

  /** The process's start from /proc/self/stat, against ProcessHandle's start instant. */
  @Test
  void processStartIsWhenTheJdkSaysThisProcessStarted() throws Exception {
    long ticks = AgentResource.processStart();
    assertTrue(ticks > 0, "start ticks " + ticks);
    long bootSeconds = -1;
    for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
      if (line.startsWith("btime ")) {
        bootSeconds = Long.parseLong(line.substring(6).trim());
      }
    }
    Process getconf = new ProcessBuilder("getconf", "CLK_TCK").start();
    long hz = Long.parseLong(new String(getconf.getInputStream().readAllBytes()).trim());
    assertEquals(0, getconf.waitFor());
    Instant fromKernel = Instant.ofEpochMilli(bootSeconds * 1000 + ticks * 1000 / hz);
    Instant fromJdk = ProcessHandle.current().info().startInstant().orElseThrow();
    // btime is in whole seconds, the JDK's instant derives from the same ticks: within a second.
    long apart = Math.abs(fromKernel.toEpochMilli() - fromJdk.toEpochMilli());
    assertTrue(apart <= 1000 + 1000 / hz, fromKernel + " against " + fromJdk);
  }

  @Test
  void instanceIdIsAStableVersion8UuidOfHostPidAndStart() {
    String id = AgentResource.instanceId();
    assertEquals(id, AgentResource.instanceId());
    UUID uuid = UUID.fromString(id);
    assertEquals(8, uuid.version());
    assertEquals(2, uuid.variant());
    String one = AgentResource.instanceId("host", 42, 1000);
    assertEquals(one, AgentResource.instanceId("host", 42, 1000));
    assertNotEquals(one, AgentResource.instanceId("host", 42, 1001), "another start");
    assertNotEquals(one, AgentResource.instanceId("host", 43, 1000), "another pid");
    assertNotEquals(one, AgentResource.instanceId("other", 42, 1000), "another host");
  }

  /** The first word of the command, as splitting on white space gives it; a jar's name without ".jar". */
  @Test
  void serviceNameIsTheMainClassOrTheJarsName() {
    for (String command : new String[] {"com.example.Main", "com.example.Main a b", " \tcom.example.Main\targ",
        "app.jar", "/opt/app/server.jar --port 80", "lib/x.jar", ""}) {
      String first = command.trim().split("\\s+", 2)[0];
      String expected = first.isEmpty() ? "unknown_service:java"
          : first.endsWith(".jar") ? Path.of(first).getFileName().toString().replaceAll("\\.jar$", "") : first;
      assertEquals(expected, AgentResource.serviceNameFromCommand(command), command);
    }
  }
}
