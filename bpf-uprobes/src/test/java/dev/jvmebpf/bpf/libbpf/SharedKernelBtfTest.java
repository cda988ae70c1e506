package dev.jvmebpf.bpf.libbpf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jvmebpf.bpf.BpfTestSupport;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Objects that relocate against the kernel's BTF parse it once between them while it is shared,
 * and each parses its own again once sharing stopped: counted from libbpf's own log line for
 * each parse of /sys/kernel/btf/vmlinux. The DNS object relocates one field of task_struct.
 */
class SharedKernelBtfTest {

  @Test
  void loadsWhileSharedParseTheKernelBtfOnce() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    List<String> parses = new CopyOnWriteArrayList<>();
    libbpf.setLogListener((level, message) -> {
      if (message.contains("loaded kernel BTF")) {
        parses.add(message);
      }
    });
    try {
      libbpf.shareKernelBtf(true);
      try (BpfObject first = BpfObject.open(libbpf, "dns"); BpfObject second = BpfObject.open(libbpf, "dns")) {
        first.load();
        second.load();
        assertEquals(1, parses.size(), "two loads while shared: " + parses);
        libbpf.shareKernelBtf(false); // both objects still open: the copy stays theirs until they close
      } finally {
        libbpf.shareKernelBtf(false);
      }
      try (BpfObject alone = BpfObject.open(libbpf, "dns"); BpfObject again = BpfObject.open(libbpf, "dns")) {
        alone.load();
        again.load();
        assertEquals(3, parses.size(), "not shared: a parse per load: " + parses);
      }
    } finally {
      libbpf.setLogListener(null);
    }
  }
}
