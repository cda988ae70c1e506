package dev.jvmebpf.bpf.libbpf;

/** The kernel, the platform or the observed binary lacks what the operation needs. */
public final class BpfUnsupportedException extends BpfException {
  private static final long serialVersionUID = 1L;

  public BpfUnsupportedException(String message, int errno) {
    super(message, errno);
  }
}
