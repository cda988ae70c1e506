package dev.jvmebpf.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The pauses of an {@code -Xlog:gc:file=...:uptimemillis} log, as HotSpot measured them. */
final class GcLog {

  /** One "Pause ..." line: when it ended (JVM uptime), its kind ("Pause Young") and duration. */
  record Pause(long uptimeMillis, String kind, double millis) {}

  private static final Pattern PAUSE =
      Pattern.compile("^\\[(\\d+)ms\\] GC\\(\\d+\\) (Pause \\w+).* ([0-9.]+)ms$");

  /** A pause from its gc+start line to its gc line, in CLOCK_MONOTONIC nanoseconds (decoration timenanos). */
  record TimedPause(int gcId, String kind, long startNanos, long endNanos) {}

  private static final Pattern TIMED_START =
      Pattern.compile("^\\[(\\d+)ns\\]\\[gc,start\\s*\\] GC\\((\\d+)\\) (Pause \\w+).*$");
  private static final Pattern TIMED_END =
      Pattern.compile("^\\[(\\d+)ns\\]\\[gc\\s*\\] GC\\((\\d+)\\) (Pause \\w+).* [0-9.]+ms$");

  private GcLog() {}

  /** -Xlog option writing the gc and gc+start tags to {@code file}, with CLOCK_MONOTONIC ns and tags. */
  static String timedOption(Path file) {
    return "-Xlog:gc,gc+start:file=" + file + ":timenanos,tags";
  }

  /** The pauses of a {@link #timedOption} log, each from its start line to its end line. */
  static List<TimedPause> timedPauses(Path log) throws IOException {
    java.util.Map<String, Long> started = new java.util.HashMap<>();
    List<TimedPause> out = new ArrayList<>();
    for (String line : Files.readAllLines(log)) {
      Matcher start = TIMED_START.matcher(line.trim());
      if (start.matches()) {
        started.put(start.group(2) + " " + start.group(3), Long.parseLong(start.group(1)));
        continue;
      }
      Matcher end = TIMED_END.matcher(line.trim());
      if (end.matches()) {
        Long begun = started.remove(end.group(2) + " " + end.group(3));
        if (begun != null) {
          out.add(new TimedPause(Integer.parseInt(end.group(2)), end.group(3), begun, Long.parseLong(end.group(1))));
        }
      }
    }
    return out;
  }

  static List<Pause> pauses(Path log) throws IOException {
    List<Pause> out = new ArrayList<>();
    for (String line : Files.readAllLines(log)) {
      Matcher m = PAUSE.matcher(line.trim());
      if (m.matches()) {
        out.add(new Pause(Long.parseLong(m.group(1)), m.group(2), Double.parseDouble(m.group(3))));
      }
    }
    return out;
  }

  /** -Xlog option writing the gc tag at info level to {@code file}, with uptime in ms. */
  static String option(Path file) {
    return "-Xlog:gc:file=" + file + ":uptimemillis";
  }
}
