package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.AttachWorkload;
import dev.jvmebpf.it.workload.PlainApp;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code attach} into JVMs started without the agent: metrics after attach against the JVM's
 * own MXBeans over the window after attach, a second attach refused without double counting,
 * and each error case as one line and a non-zero status, on JDK 17 and 25.
 */
class AttachIT extends ReceiverTest {

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void attachedAgentCountsWhatTheMxBeansCountAfterAttach(int jdk) throws Exception {
    Path home = Fixtures.jdk(jdk);
    receiver.clear();
    // A heap that cannot shrink (see GcDurationIT): no collection set off by the exit.
    TargetJvm.Running target = TargetJvm.on(home).jvmArgs("-Xmx256m", "-Xms256m", "-XX:+UseG1GC")
        .start(AttachWorkload.class, "3000");
    try {
      Thread.sleep(1500); // it collects meanwhile, without the agent
      AgentCli.Output first = AgentCli.run(home, null, Fixtures.agentJar(), "attach", Long.toString(target.pid()),
          receiver.agentArguments("grpc"));
      assertEquals(0, first.exitCode(), first.toString());
      assertTrue(first.stdout().startsWith("attached to " + target.pid()) && first.stdout().contains("on: gc"),
          first.toString());

      AgentCli.Output second = AgentCli.run(home, null, Fixtures.agentJar(), "attach", Long.toString(target.pid()),
          receiver.agentArguments("grpc"));
      assertEquals(3, second.exitCode(), second.toString());
      assertEquals("jvm-ebpf-agent attach: already attached to " + target.pid(),
          second.stderr().strip().replaceFirst(" \\(.*", ""), second.toString());
      assertEquals("", second.stdout());

      TargetJvm.Result run = target.await(Duration.ofSeconds(90));
      assertEquals(0, run.exitCode(), run.stderr());
      assertTrue(run.value("AGENT").startsWith("on: gc"), run.stdout());
      assertTrue(run.values("TALK_FAILED").isEmpty() && Long.parseLong(run.value("EXCHANGES")) > 100,
          "its socket conversation went on through the attach: " + run.stdout());

      // One agent, one export (at exit): a second copy would have exported too.
      long exports = receiver.received().stream().filter(r -> r.request().toString().contains("jvm.gc.duration"))
          .count();
      assertEquals(1, exports, "exports carrying jvm.gc.duration");
      long collections = assertCollectionsAfterAttach(run, receiver.gcDurations());
      assertTrue(collections >= 4, "collections after attach: " + collections);
      System.out.printf("JDK %d: attached in a running JVM, %d collections after attach, equal to the MXBeans%n",
          jdk, collections);
    } finally {
      target.kill();
    }
  }

  /**
   * A runtime image without jdk.attach (jlink), for the target and for the command alike: the
   * command speaks the attach protocol itself, the target needs only what the agent uses.
   */
  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void worksWithoutTheJdkAttachModule(int jdk) throws Exception {
    Path image = Files.createTempDirectory("jeb-jre-").resolve("image");
    try {
      Process jlink = new ProcessBuilder(Fixtures.jdk(jdk).resolve("bin/jlink").toString(), "--add-modules",
          "java.base,java.instrument,java.logging,java.management,jdk.management,jdk.unsupported",
          "--output", image.toString(), "--strip-debug", "--no-header-files", "--no-man-pages")
          .redirectErrorStream(true).start();
      String jlinkOutput = new String(jlink.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(jlink.waitFor(120, TimeUnit.SECONDS) && jlink.exitValue() == 0, "jlink: " + jlinkOutput);
      assertTrue(!Files.exists(image.resolve("lib/libattach.so")), "the image has no jdk.attach");

      receiver.clear();
      TargetJvm.Running target = TargetJvm.on(image).jvmArgs("-Xmx256m", "-Xms256m")
          .start(AttachWorkload.class, "2000");
      try {
        Thread.sleep(1500);
        AgentCli.Output attach = AgentCli.run(image, null, Fixtures.agentJar(), "attach", Long.toString(target.pid()),
            receiver.agentArguments("http/protobuf"));
        assertEquals(0, attach.exitCode(), attach.toString());
        TargetJvm.Result run = target.await(Duration.ofSeconds(90));
        assertEquals(0, run.exitCode(), run.stderr());
        assertCollectionsAfterAttach(run, receiver.gcDurations());
      } finally {
        target.kill();
      }
    } finally {
      try (var files = Files.walk(image.getParent())) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @org.junit.jupiter.api.Test
  void listShowsTheJvmsAndWhereTheAgentRuns() throws Exception {
    TargetJvm.Running plain = TargetJvm.on(Fixtures.jdk(17)).start(PlainApp.class, "60000");
    TargetJvm.Running observed = TargetJvm.on(Fixtures.jdk(25)).withAgent("exporter=none")
        .start(PlainApp.class, "60000");
    TargetJvm.Running closed = TargetJvm.on(Fixtures.jdk(17)).jvmArgs("-XX:+DisableAttachMechanism")
        .start(PlainApp.class, "60000");
    try {
      Thread.sleep(2000); // the agent extracts and loads its libraries meanwhile
      AgentCli.Output list = AgentCli.run(Fixtures.jdk(17), null, Fixtures.agentJar(), "list");
      assertEquals(0, list.exitCode(), list.toString());
      String plainLine = line(list.stdout(), plain.pid());
      assertTrue(plainLine.matches(plain.pid() + "\\s+17\\.\\S*\\s+no\\s+" + PlainApp.class.getName()), plainLine);
      String observedLine = line(list.stdout(), observed.pid());
      assertTrue(observedLine.matches(observed.pid() + "\\s+25\\S*\\s+yes\\s+" + PlainApp.class.getName()),
          observedLine);
      assertTrue(list.stdout().lines().noneMatch(l -> l.startsWith(closed.pid() + " ")),
          "a JVM that takes no attach is not listed:\n" + list.stdout());
    } finally {
      plain.kill();
      observed.kill();
      closed.kill();
    }
  }

  /**
   * Each collector's exported count equals its MXBean's over the window after attach (the agent
   * starts its GC counts right before it says it is on, when the window begins). Returns the
   * collections in the window.
   */
  static long assertCollectionsAfterAttach(TargetJvm.Result run, Map<String, ExponentialHistogramDataPoint> ours) {
    long collections = 0;
    for (Map.Entry<String, Long> bean : run.beans().entrySet()) {
      long exported = ours.containsKey(bean.getKey()) ? ours.get(bean.getKey()).getCount() : 0;
      assertEquals(bean.getValue(), exported, "collections of " + bean.getKey() + " after attach");
      collections += bean.getValue();
    }
    return collections;
  }

  private static String line(String text, long pid) {
    return text.lines().filter(l -> l.startsWith(pid + " ")).findFirst()
        .orElseThrow(() -> new AssertionError("no line for " + pid + " in\n" + text)).strip();
  }

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void everyErrorIsOneLineAndANonZeroStatus(int jdk) throws Exception {
    Path home = Fixtures.jdk(jdk);
    Path jar = Fixtures.agentJar();

    Process ended = new ProcessBuilder("true").start();
    ended.waitFor(10, TimeUnit.SECONDS);
    assertOneLineError(AgentCli.run(home, null, jar, "attach", Long.toString(ended.pid())),
        "no process with pid " + ended.pid());

    Process sleep = new ProcessBuilder("sleep", "60").start();
    try {
      assertOneLineError(AgentCli.run(home, null, jar, "attach", Long.toString(sleep.pid())),
          "process " + sleep.pid() + " (sleep) is not a HotSpot JVM");
    } finally {
      sleep.destroyForcibly();
      sleep.waitFor(10, TimeUnit.SECONDS);
    }

    TargetJvm.Running closed = TargetJvm.on(home).jvmArgs("-XX:+DisableAttachMechanism")
        .start(PlainApp.class, "60000");
    try {
      assertOneLineError(AgentCli.run(home, null, jar, "attach", Long.toString(closed.pid())),
          "was started with -XX:+DisableAttachMechanism");
    } finally {
      closed.kill();
    }

    // A root JVM, and the command as nobody (from a copy of the jar nobody can read).
    Path dir = Files.createTempDirectory("jeb-attach-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Path copy = Files.copy(jar, dir.resolve("jvm-ebpf-agent.jar"));
    TargetJvm.Running rootJvm = TargetJvm.on(home).start(PlainApp.class, "60000");
    try {
      assertOneLineError(AgentCli.run(home, "nobody", copy, "attach", Long.toString(rootJvm.pid())),
          "belongs to user root (uid 0), not to user nobody");
    } finally {
      rootJvm.kill();
      Files.deleteIfExists(copy);
      Files.deleteIfExists(dir);
    }

    assertOneLineError(AgentCli.run(home, null, jar, "attach", "not-a-pid"), "'not-a-pid' is not a process id");
  }

  private static void assertOneLineError(AgentCli.Output output, String expected) {
    assertTrue(output.exitCode() != 0, output.toString());
    String err = output.stderr().strip();
    assertEquals(1, err.lines().count(), "one line on stderr: " + output);
    assertTrue(err.startsWith("jvm-ebpf-agent attach: ") && err.contains(expected), "'" + expected + "' in " + output);
    assertTrue(!err.contains("Exception") && !err.contains("\tat "), "no stack trace: " + output);
  }
}
