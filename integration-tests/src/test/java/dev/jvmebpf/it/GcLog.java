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

  private GcLog() {}

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
