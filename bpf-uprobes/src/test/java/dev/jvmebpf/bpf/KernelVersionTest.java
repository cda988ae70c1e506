package dev.jvmebpf.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.libbpf.BpfUnsupportedException;
import org.junit.jupiter.api.Test;

/** Kernel releases as distributions spell them, against a family's minimum. */
class KernelVersionTest {

  @Test
  void releasesAreComparedAsNumbers() throws Exception {
    assertEquals(new KernelVersion(6, 18), KernelVersion.parse("6.18.44-fc-v1252"));
    assertEquals(new KernelVersion(5, 15), KernelVersion.parse("5.15.0-91-generic"));
    KernelVersion six2 = new KernelVersion(6, 2);
    six2.require("6.10.3", "x"); // 10 > 2, not "1" < "2"
    six2.require("6.2.0-rc1", "x");
    six2.require("7.0.0", "x");
    BpfUnsupportedException old = assertThrows(BpfUnsupportedException.class,
        () -> six2.require("5.15.0-91-generic", "bpf_rdonly_cast 6.2"));
    assertEquals("needs Linux 6.2 or later (bpf_rdonly_cast 6.2); this kernel is 5.15.0-91-generic", old.getMessage());
    new KernelVersion(6, 2).require("not a release", "x"); // unknown: the kernel itself will say
  }

  @Test
  void theSocketFamilyNeedsMoreThanTheOthers() {
    assertTrue(ProbeRequirements.COMMON_KERNEL.compareTo(new KernelVersion(5, 12)) == 0);
    assertTrue(dev.jvmebpf.bpf.socket.SocketProbes.NEEDS.kernel().compareTo(new KernelVersion(6, 2)) == 0);
    assertTrue(dev.jvmebpf.bpf.gc.GcProbes.NEEDS.kernel().compareTo(ProbeRequirements.COMMON_KERNEL) == 0);
  }
}
