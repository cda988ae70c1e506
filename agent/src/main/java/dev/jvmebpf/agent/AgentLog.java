package dev.jvmebpf.agent;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.io.PrintStream;

/**
 * Everything the agent writes on the host's stderr. Normally that is one status line per
 * change of state ("eBPF on ...", "eBPF off: why, how to enable"); with {@code debug=true}
 * also details and libbpf's own messages. Each line starts with {@value #PREFIX}.
 */
public final class AgentLog {

  public static final String PREFIX = "[jvm-ebpf-agent] ";

  private static final String SHADED_PREFIX = "dev.jvmebpf.shaded.";

  private final PrintStream err;
  private final boolean debug;

  public AgentLog(PrintStream err, boolean debug) {
    this.err = err;
    this.debug = debug;
  }

  public boolean isDebug() {
    return debug;
  }

  /** A line that is always printed: state changes and problems the user should see. */
  public void status(String line) {
    err.println(PREFIX + withoutCredentials(line));
  }

  public void debug(String line) {
    if (debug) {
      err.println(PREFIX + "debug: " + withoutCredentials(line));
    }
  }

  /**
   * Routes the messages of the agent's relocated SDK (e.g. an export that failed) to this log,
   * shown with {@code debug=true} only; the SDK's java.util.logging Logger is relocated to
   * {@link dev.jvmebpf.agent.sdklog.Logger}, so they never reach the host's stderr nor
   * java.util.logging. Unrelocated (unit tests), the SDK logs through java.util.logging, like
   * the application's own copy: left alone.
   */
  public void captureSdkLogging() {
    String sdkPackage = OpenTelemetrySdk.class.getPackageName();
    // No literal of the SDK's own package here: the shade plugin rewrites such strings along
    // with the classes, which once made this test always true in the packaged agent.
    if (!sdkPackage.startsWith(SHADED_PREFIX)) {
      return;
    }
    if (debug) {
      dev.jvmebpf.agent.sdklog.Logger.route(line -> debug("sdk " + line), dev.jvmebpf.agent.sdklog.Level.FINE);
    } else {
      dev.jvmebpf.agent.sdklog.Logger.route(null, dev.jvmebpf.agent.sdklog.Level.OFF);
    }
  }

  /** Undoes {@link #captureSdkLogging} (the agent stops; a later start captures again). */
  public static void releaseSdkLogging() {
    dev.jvmebpf.agent.sdklog.Logger.route(null, dev.jvmebpf.agent.sdklog.Level.OFF);
  }

  /**
   * A URL's user info (scheme://user:password@host): its password must not reach a log. Compiled
   * on first need only (a line with an '@'): most starts print none.
   */
  private static final class UserInfo {
    static final java.util.regex.Pattern PATTERN =
        java.util.regex.Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\\s]+@");
  }

  /**
   * {@code text} with the user info of every URL in it replaced by "***" (an endpoint such as
   * {@code http://user:secret@collector:4318} is printed {@code http://***@collector:4318}).
   */
  static String withoutCredentials(String text) {
    return text == null || text.indexOf('@') < 0 ? text : UserInfo.PATTERN.matcher(text).replaceAll("$1***@");
  }
}
