package dev.jvmebpf.bpf;

import dev.jvmebpf.bpf.libbpf.BpfUnsupportedException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Linux version, major and minor ("6.2"), as a probe family's minimum or as the running kernel's
 * release ("6.18.44-fc-v1252").
 */
public record KernelVersion(int major, int minor) implements Comparable<KernelVersion> {

  /**
   * The version at the start of a release string (digits, a dot, digits); IllegalArgumentException
   * when there is none. Parsed by hand: a regular expression cost the start a compilation and two
   * spun lambdas.
   */
  public static KernelVersion parse(String release) {
    String r = release.trim();
    int dot = digitsEnd(r, 0);
    int end = dot < r.length() && r.charAt(dot) == '.' ? digitsEnd(r, dot + 1) : dot;
    if (dot == 0 || end == dot + 1 || end == dot) {
      throw new IllegalArgumentException("not a kernel release: " + release);
    }
    try {
      return new KernelVersion(Integer.parseInt(r.substring(0, dot)), Integer.parseInt(r.substring(dot + 1, end)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a kernel release: " + release, e);
    }
  }

  private static int digitsEnd(String s, int from) {
    int i = from;
    while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
      i++;
    }
    return i;
  }

  /**
   * The system property that stands in for the running kernel's release in the families'
   * minimum checks (tests of what an older kernel gives; nothing else reads it).
   */
  public static final String RELEASE_PROPERTY = "jvm.ebpf.kernel.release";

  /** The running kernel's release as first read; a kernel's release does not change while it runs. */
  private static volatile String running;

  /** The running kernel's release (/proc/sys/kernel/osrelease), e.g. "6.18.44-fc-v1252". */
  public static String runningRelease() throws IOException {
    String stand = System.getProperty(RELEASE_PROPERTY);
    if (stand != null && !stand.isBlank()) {
      return stand.trim();
    }
    String release = running;
    if (release == null) { // each family asks at start: read once
      release = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
      running = release;
    }
    return release;
  }

  @Override
  public int compareTo(KernelVersion o) {
    return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
  }

  /**
   * Nothing when {@code release} is at least this version; else a typed "unsupported": "needs
   * Linux X.Y or later (features); this kernel is release".
   */
  public void require(String release, String features) throws BpfUnsupportedException {
    KernelVersion running;
    try {
      running = parse(release);
    } catch (IllegalArgumentException e) {
      return; // an unusual release string: let the kernel itself say what it lacks
    }
    if (running.compareTo(this) < 0) {
      throw new BpfUnsupportedException("needs Linux " + this + " or later (" + features + "); this kernel is "
          + release, 0);
    }
  }

  @Override
  public String toString() {
    return major + "." + minor;
  }
}
