package dev.jvmebpf.bpf.libbpf;

/**
 * A BPF operation failed. The message says what was being done, the errno by name and text,
 * and, where there is one, what to do about it, e.g.
 * {@code attach usdt hotspot:gc__begin: EPERM (Operation not permitted); needs root or CAP_BPF+CAP_PERFMON}.
 */
public class BpfException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int errno;

  public BpfException(String message, int errno) {
    super(message);
    this.errno = errno;
  }

  public BpfException(String message, Throwable cause) {
    super(message, cause);
    this.errno = 0;
  }

  /** Positive errno, 0 when the failure did not come from a system call. */
  public int errno() {
    return errno;
  }
}
