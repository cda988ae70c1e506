package dev.jvmebpf.bpf.libbpf;

/** The kernel refused for lack of privileges (EPERM, EACCES without a verifier log). */
public final class BpfPermissionException extends BpfException {
  private static final long serialVersionUID = 1L;

  public static final String HOW_TO_GRANT =
      "needs root or CAP_BPF+CAP_PERFMON (e.g. setcap cap_bpf,cap_perfmon+ep on the java binary)";

  public BpfPermissionException(String message, int errno) {
    super(message, errno);
  }
}
