package dev.jvmebpf.bpf.libbpf;

import java.util.Map;

/** Linux errno values the BPF calls and the probed socket calls return, by name (x86-64 numbering). */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EIO = 5;
  public static final int E2BIG = 7;
  public static final int EBADF = 9;
  public static final int EAGAIN = 11;
  public static final int ENOMEM = 12;
  public static final int EACCES = 13;
  public static final int EFAULT = 14;
  public static final int EBUSY = 16;
  public static final int EEXIST = 17;
  public static final int ENODEV = 19;
  public static final int EINVAL = 22;
  public static final int EMFILE = 24;
  public static final int ENOSPC = 28;
  public static final int ERANGE = 34;
  public static final int ENOSYS = 38;
  public static final int ENODATA = 61;
  public static final int EMSGSIZE = 90;
  public static final int EOPNOTSUPP = 95;
  /** The kernel's internal "not supported", which leaks out of some BPF paths. */
  public static final int ENOTSUPP = 524;

  /** Names of the values above and of the errors socket calls fail with. */
  private static final Map<Integer, String> NAMES = Map.ofEntries(
      Map.entry(EPERM, "EPERM"), Map.entry(ENOENT, "ENOENT"), Map.entry(ESRCH, "ESRCH"), Map.entry(4, "EINTR"),
      Map.entry(EIO, "EIO"), Map.entry(E2BIG, "E2BIG"), Map.entry(8, "ENOEXEC"), Map.entry(EBADF, "EBADF"),
      Map.entry(EAGAIN, "EAGAIN"), Map.entry(ENOMEM, "ENOMEM"), Map.entry(EACCES, "EACCES"),
      Map.entry(EFAULT, "EFAULT"), Map.entry(EBUSY, "EBUSY"), Map.entry(EEXIST, "EEXIST"),
      Map.entry(ENODEV, "ENODEV"), Map.entry(EINVAL, "EINVAL"), Map.entry(23, "ENFILE"), Map.entry(EMFILE, "EMFILE"),
      Map.entry(ENOSPC, "ENOSPC"), Map.entry(32, "EPIPE"), Map.entry(ERANGE, "ERANGE"), Map.entry(ENOSYS, "ENOSYS"),
      Map.entry(ENODATA, "ENODATA"), Map.entry(88, "ENOTSOCK"), Map.entry(89, "EDESTADDRREQ"),
      Map.entry(EMSGSIZE, "EMSGSIZE"), Map.entry(91, "EPROTOTYPE"), Map.entry(92, "ENOPROTOOPT"),
      Map.entry(93, "EPROTONOSUPPORT"), Map.entry(EOPNOTSUPP, "EOPNOTSUPP"), Map.entry(97, "EAFNOSUPPORT"),
      Map.entry(98, "EADDRINUSE"), Map.entry(99, "EADDRNOTAVAIL"), Map.entry(100, "ENETDOWN"),
      Map.entry(101, "ENETUNREACH"), Map.entry(102, "ENETRESET"), Map.entry(103, "ECONNABORTED"),
      Map.entry(104, "ECONNRESET"), Map.entry(105, "ENOBUFS"), Map.entry(106, "EISCONN"), Map.entry(107, "ENOTCONN"),
      Map.entry(108, "ESHUTDOWN"), Map.entry(110, "ETIMEDOUT"), Map.entry(111, "ECONNREFUSED"),
      Map.entry(112, "EHOSTDOWN"), Map.entry(113, "EHOSTUNREACH"), Map.entry(114, "EALREADY"),
      Map.entry(115, "EINPROGRESS"), Map.entry(ENOTSUPP, "ENOTSUPP"));

  private Errno() {}

  /** "EPERM", or "errno 4007" for values without a name here. */
  public static String name(int errno) {
    return NAMES.getOrDefault(errno, "errno " + errno);
  }
}
