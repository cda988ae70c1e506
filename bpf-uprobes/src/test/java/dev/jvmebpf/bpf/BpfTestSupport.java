package dev.jvmebpf.bpf;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

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
      if (probe != 1) {
        reason = "cannot load BPF programs: " + libbpf.describe(-probe) + "; needs root or CAP_BPF+CAP_PERFMON";
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

  /**
   * Standard output of a system tool used as an oracle (readelf, bpftool). A missing tool
   * fails the test with CI=true and skips it elsewhere.
   */
  public static String toolOutput(String... command) throws IOException, InterruptedException {
    Process process = null;
    String missing = null;
    try {
      process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      missing = e.getMessage();
    }
    if (missing != null && inCi()) {
      fail(command[0] + " is required when CI=true (make deps installs it): " + missing);
    }
    assumeTrue(missing == null, "skipped, " + command[0] + " is not installed");
    byte[] out = process.getInputStream().readAllBytes();
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      fail(String.join(" ", command) + " failed");
    }
    return new String(out, StandardCharsets.UTF_8);
  }
}
