package dev.jvmebpf.bpf.libbpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * libbpf's messages reach a listener at every level, and stop when it is removed. Opening an
 * object only parses its ELF: no privileges needed.
 */
class LibbpfLogTest {

  @Test
  void aListenerHearsTheDebugMessagesAndNothingAfterItIsRemoved() throws Exception {
    Libbpf libbpf = Libbpf.load(null);
    List<Integer> levels = new ArrayList<>();
    List<String> messages = new ArrayList<>();
    libbpf.setLogListener((level, message) -> {
      levels.add(level);
      messages.add(message);
    });
    try (BpfObject ignored = BpfObject.open(libbpf, "gc")) {
      assertTrue(levels.contains(Libbpf.LOG_DEBUG), "libbpf's open logs at debug level: " + levels);
      assertTrue(messages.stream().anyMatch(m -> m.contains("gc")), "the messages name the object: " + messages);
    } finally {
      libbpf.setLogListener(null);
    }
    int heard = levels.size();
    try (BpfObject ignored = BpfObject.open(libbpf, "gc")) {
      assertEquals(heard, levels.size(), "a removed listener hears nothing");
    }
  }
}
