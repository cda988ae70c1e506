package dev.jvmebpf.agent.sdklog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoggerTest {

  @AfterEach
  void silence() {
    Logger.route(null, Level.OFF);
  }

  @Test
  void levelsHaveJavaUtilLoggingsNamesAndValues() {
    for (Level level : List.of(Level.OFF, Level.SEVERE, Level.WARNING, Level.INFO, Level.CONFIG, Level.FINE,
        Level.FINER, Level.FINEST, Level.ALL)) {
      assertEquals(java.util.logging.Level.parse(level.getName()).intValue(), level.intValue(), level.getName());
      assertEquals(level.getName(), level.toString());
    }
  }

  @Test
  void messagesAtTheThresholdOrAboveReachTheRouteAndNothingElse() {
    List<String> lines = new CopyOnWriteArrayList<>();
    Logger logger = Logger.getLogger("dev.example.Exporter");
    logger.warning("before any route");
    Logger.route(lines::add, Level.WARNING);
    assertTrue(logger.isLoggable(Level.SEVERE) && logger.isLoggable(Level.WARNING));
    assertFalse(logger.isLoggable(Level.INFO) || logger.isLoggable(Level.FINE));
    logger.fine("dropped");
    logger.log(Level.INFO, "dropped too", new IOException("x"));
    logger.log(Level.WARNING, "Failed to export", new IOException("connection refused"));
    logger.log(Level.SEVERE, "{0} of {1} spans dropped", new Object[] {3, 10});
    logger.log(Level.WARNING, "one {0}", "parameter");
    logger.severe("plain");
    assertEquals(List.of("WARNING dev.example.Exporter: Failed to export: java.io.IOException: connection refused",
        "SEVERE dev.example.Exporter: 3 of 10 spans dropped", "WARNING dev.example.Exporter: one parameter",
        "SEVERE dev.example.Exporter: plain"), lines);

    Logger.route(lines::add, Level.FINE);
    logger.fine("now shown");
    logger.finer("still not");
    assertEquals("FINE dev.example.Exporter: now shown", lines.get(lines.size() - 1));

    Logger.route(null, Level.ALL);
    assertFalse(logger.isLoggable(Level.SEVERE), "no route: nothing is loggable");
    logger.severe("nowhere");
    assertEquals(5, lines.size());
  }

  @Test
  void aFailingRouteNeverFailsTheCaller() {
    Logger.route(line -> {
      throw new IllegalStateException("broken sink");
    }, Level.ALL);
    Logger.getLogger("x").severe("still returns");
  }
}
