package dev.jvmebpf.agent.sdklog;

import java.util.function.Consumer;

/**
 * What the agent's relocated libraries (the OpenTelemetry SDK, OkHttp, Okio) get when they ask
 * for a {@code java.util.logging.Logger}: the build relocates their references to
 * java.util.logging's Logger and Level to these two classes. Their messages go to the agent's
 * own log (with {@code debug=true}), and java.util.logging itself is never touched, so its
 * LogManager stays for the application to choose and set up (a container that sets
 * {@code java.util.logging.manager} in its main method finds it uninitialized), and none of its
 * start-up cost falls on the agent's start.
 *
 * <p>Only the members the relocated classes use exist here; a test of the packaged agent checks
 * that every one they call is declared.
 */
public final class Logger {

  private static volatile Consumer<String> sink;
  private static volatile int threshold = Level.OFF.intValue();

  private final String name;

  private Logger(String name) {
    this.name = name;
  }

  /**
   * Where messages at {@code level} or above go from now on (each line: level, logger name,
   * message and the thrown exception's summary); null sends them nowhere.
   */
  public static void route(Consumer<String> lines, Level level) {
    sink = lines;
    threshold = lines == null ? Level.OFF.intValue() : level.intValue();
  }

  public static Logger getLogger(String name) {
    return new Logger(name);
  }

  public String getName() {
    return name;
  }

  public boolean isLoggable(Level level) {
    return level.intValue() >= threshold && threshold != Level.OFF.intValue();
  }

  public void log(Level level, String message) {
    publish(level, message, null);
  }

  public void log(Level level, String message, Throwable thrown) {
    publish(level, message, thrown);
  }

  public void log(Level level, String message, Object parameter) {
    if (isLoggable(level)) {
      publish(level, format(message, new Object[] {parameter}), null);
    }
  }

  public void log(Level level, String message, Object[] parameters) {
    if (isLoggable(level)) {
      publish(level, format(message, parameters), null);
    }
  }

  public void severe(String message) {
    publish(Level.SEVERE, message, null);
  }

  public void warning(String message) {
    publish(Level.WARNING, message, null);
  }

  public void info(String message) {
    publish(Level.INFO, message, null);
  }

  public void fine(String message) {
    publish(Level.FINE, message, null);
  }

  public void finer(String message) {
    publish(Level.FINER, message, null);
  }

  public void finest(String message) {
    publish(Level.FINEST, message, null);
  }

  private void publish(Level level, String message, Throwable thrown) {
    Consumer<String> to = sink;
    if (to == null || !isLoggable(level)) {
      return;
    }
    String line = level + " " + name + ": " + message;
    if (thrown != null) {
      line += ": " + thrown;
    }
    try {
      to.accept(line);
    } catch (RuntimeException ignored) {
      // A library's logging must never fail its caller.
    }
  }

  /** java.util.logging's formatting of {0}-style parameters, when the message has any. */
  private static String format(String message, Object[] parameters) {
    if (message == null || parameters == null || parameters.length == 0 || message.indexOf('{') < 0) {
      return message;
    }
    try {
      return java.text.MessageFormat.format(message, parameters);
    } catch (IllegalArgumentException e) {
      return message;
    }
  }
}
