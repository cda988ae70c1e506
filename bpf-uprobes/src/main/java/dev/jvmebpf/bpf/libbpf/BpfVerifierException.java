package dev.jvmebpf.bpf.libbpf;

/** The verifier rejected a program; {@link #verifierLog()} holds its reasoning. */
public final class BpfVerifierException extends BpfException {
  private static final long serialVersionUID = 1L;

  private final String verifierLog;

  public BpfVerifierException(String message, int errno, String verifierLog) {
    super(message, errno);
    this.verifierLog = verifierLog;
  }

  public String verifierLog() {
    return verifierLog;
  }
}
