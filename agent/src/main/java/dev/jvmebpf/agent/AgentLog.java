package dev.jvmebpf.agent;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.io.PrintStream;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Everything the agent writes on the host's stderr. Normally that is one status line per
 * change of state ("eBPF on ...", "eBPF off: why, how to enable"); with {@code debug=true}
 * also details and libbpf's own messages. Each line starts with {@value #PREFIX}.
 */
public final class AgentLog {

  public static final String PREFIX = "[jvm-ebpf-agent] ";

  // JUL keeps loggers weakly: hold ours, or its settings vanish with it.
  // Static: the logger must stay referenced (and configured) while the agent runs.
  private static Logger sdkLogger;
  private static final String SHADED_PREFIX = "dev.jvmebpf.shaded.";
  private static Handler sdkHandler;

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
   * Routes the OpenTelemetry SDK's java.util.logging output (e.g. an export that failed) to
   * this log instead of the JVM's root handler, i.e. the host's stderr. Applies only to our
   * relocated copy of the SDK: the application's own OpenTelemetry loggers are left alone.
   */
  public void captureSdkLogging() {
    synchronized (AgentLog.class) {
      captureSdkLoggingLocked();
    }
  }

  private void captureSdkLoggingLocked() {
    String sdkPackage = OpenTelemetrySdk.class.getPackageName();
    String root = sdkPackage.substring(0, sdkPackage.length() - ".sdk".length());
    // Not relocated (unit tests): these loggers would be the application's too. (No literal of
    // the SDK's own package here: the shade plugin rewrites such strings along with the classes,
    // which once made this test always true in the packaged agent.)
    if (!root.startsWith(SHADED_PREFIX)) {
      return;
    }
    Logger logger = Logger.getLogger(root);
    logger.setUseParentHandlers(false);
    logger.setLevel(debug ? Level.FINE : Level.WARNING);
    sdkHandler = new Handler() {
      @Override
      public void publish(LogRecord record) {
        String message = record.getMessage() == null ? "" : record.getMessage();
        if (record.getThrown() != null) {
          message += ": " + record.getThrown();
        }
        debug("sdk " + record.getLevel() + " " + message);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    logger.addHandler(sdkHandler);
    sdkLogger = logger;
  }

  /** Undoes {@link #captureSdkLogging} (the agent stops; a later start captures again). */
  public static synchronized void releaseSdkLogging() {
    if (sdkLogger != null) {
      sdkLogger.removeHandler(sdkHandler);
      sdkLogger.setUseParentHandlers(true);
      sdkLogger.setLevel(null);
      sdkLogger = null;
      sdkHandler = null;
    }
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
