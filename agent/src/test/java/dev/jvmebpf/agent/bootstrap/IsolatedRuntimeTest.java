package dev.jvmebpf.agent.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the private directory cannot be made, the agent says so in its one line and its status. */
class IsolatedRuntimeTest {

  @TempDir
  Path tmp;

  @AfterEach
  void clearStatus() {
    System.clearProperty(IsolatedRuntime.STATUS_PROPERTY);
    System.clearProperty(IsolatedRuntime.ATTACH_ID_PROPERTY);
  }

  @Test
  void aMissingTmpdirGivesTheStatusLineAndProperty() {
    Path missing = tmp.resolve("nonexistent");
    String tmpdir = System.getProperty("java.io.tmpdir");
    PrintStream err = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setProperty("java.io.tmpdir", missing.toString());
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      // Fails at the directory, before any jar is read or class loader built.
      IsolatedRuntime.startAgent("exporter=none,attach.id=t2", null, "premain");
    } finally {
      System.setErr(err);
      System.setProperty("java.io.tmpdir", tmpdir);
    }
    String why = "cannot create a private directory under " + missing
        + ": no such directory (java.io.tmpdir must be a writable directory)";
    assertEquals(List.of("[jvm-ebpf-agent] not started: " + why),
        bytes.toString(StandardCharsets.UTF_8).lines().toList());
    assertEquals("off: " + why, System.getProperty("jvm.ebpf.agent.status"));
    assertEquals("t2", System.getProperty("jvm.ebpf.agent.attach.id"), "the attach command then believes the status");
  }
}
