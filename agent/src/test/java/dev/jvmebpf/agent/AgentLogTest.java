package dev.jvmebpf.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What the agent prints never carries the credentials of an endpoint URL. */
class AgentLogTest {

  @Test
  void userInfoOfEveryUrlIsMasked() {
    assertEquals("exporting to otlp http/protobuf http://***@collector:4318 every 60s",
        AgentLog.withoutCredentials("exporting to otlp http/protobuf http://user:s3cret@collector:4318 every 60s"));
    assertEquals("a https://***@h/x and grpc+tls://***@[::1]:4317",
        AgentLog.withoutCredentials("a https://token@h/x and grpc+tls://u:p@[::1]:4317"));
    // Nothing to mask: unchanged, an e-mail-like path segment included.
    String plain = "export to otlp grpc http://localhost:4317 failed (connect to localhost/127.0.0.1:4317: refused); "
        + "see http://host/path/a@b";
    assertEquals(plain, AgentLog.withoutCredentials(plain));
  }

  @Test
  void statusAndDebugLinesAreMaskedAsPrinted() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    AgentLog log = new AgentLog(new PrintStream(bytes, true, StandardCharsets.UTF_8), true);
    log.status("export to otlp grpc http://alice:hunter2@10.0.0.1:4317 failed");
    log.debug("endpoint http://alice:hunter2@10.0.0.1:4317");
    String printed = bytes.toString(StandardCharsets.UTF_8);
    assertFalse(printed.contains("hunter2") || printed.contains("alice"), printed);
    assertTrue(printed.contains("http://***@10.0.0.1:4317 failed"), printed);
    assertEquals(2, printed.lines().count(), printed);
  }
}
