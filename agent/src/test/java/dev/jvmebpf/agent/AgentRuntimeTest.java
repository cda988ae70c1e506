package dev.jvmebpf.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start with a bad setting stops before the SDK is built or anything attached, in one line
 * that names the key, and with the status property "off: ...". No BPF needed: nothing loads.
 */
class AgentRuntimeTest {

  @TempDir
  Path privateDir;

  @AfterEach
  void clearStatus() {
    System.clearProperty(AgentStatus.STATUS_PROPERTY);
    System.clearProperty(AgentStatus.ATTACH_ID_PROPERTY);
  }

  @Test
  void aBadIntervalStopsTheStartAndNamesTheKey() {
    for (String interval : List.of("0", "-1s", "abc")) {
      List<String> lines = start("exporter=none,interval=" + interval);
      assertEquals(1, lines.size(), lines.toString());
      assertTrue(lines.get(0).startsWith("[jvm-ebpf-agent] not started: interval=" + interval
          + " is not a positive duration such as 10s, 500ms or 1m"), lines.get(0));
      assertTrue(System.getProperty(AgentStatus.STATUS_PROPERTY).startsWith("off: interval=" + interval + " is not"),
          System.getProperty(AgentStatus.STATUS_PROPERTY));
    }
  }

  @Test
  void anUnknownArgumentIsWarnedAboutOnceBeforeTheRest() {
    List<String> lines = start("scael=2,exporter=nothing,attach.id=t1");
    assertEquals(List.of("[jvm-ebpf-agent] ignoring unknown agent argument scael (did you mean scale?)",
        "[jvm-ebpf-agent] not started: exporter=nothing is not one of otlp, console, logging-otlp, none"), lines);
    assertEquals("off: exporter=nothing is not one of otlp, console, logging-otlp, none",
        System.getProperty(AgentStatus.STATUS_PROPERTY));
    assertEquals("t1", System.getProperty(AgentStatus.ATTACH_ID_PROPERTY));
  }

  /** AgentRuntime.start with {@code arguments}; the lines it printed on stderr. */
  private List<String> start(String arguments) {
    PrintStream err = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      AgentRuntime.start(arguments, null, "premain", privateDir, "test");
    } finally {
      System.setErr(err);
    }
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }
}
