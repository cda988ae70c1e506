package dev.jvmebpf.bpf;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.Libbpf;

/**
 * Gate for tests that need real BPF. With {@code CI=true} a machine that cannot load BPF
 * programs fails the test; elsewhere the test is skipped with the one-line reason.
 */
public final class BpfTestSupport {

  private BpfTestSupport() {}

  public static boolean inCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  /** The loaded libbpf, once the kernel has shown it lets us load tracing programs. */
  public static Libbpf requireBpf() {
    Libbpf libbpf = null;
    String reason = null;
    try {
      libbpf = Libbpf.load(null);
      int probe = libbpf.probeUprobePrograms();
      if (probe == 0) {
        reason = "the kernel does not support uprobe programs";
      } else if (probe < 0) {
        reason = "cannot load BPF programs (errno " + -probe + "); needs root or CAP_BPF+CAP_PERFMON";
      }
    } catch (BpfException e) {
      reason = e.getMessage();
    }
    if (reason != null && inCi()) {
      fail("BPF is required when CI=true: " + reason);
    }
    assumeTrue(reason == null, "skipped, no BPF here: " + reason);
    return libbpf;
  }
}
