package dev.jvmebpf.agent.sdklog;

/**
 * The levels of {@link Logger}: the few {@code java.util.logging.Level} constants the relocated
 * libraries name, with the same values, so that they compare as JUL's do.
 */
public final class Level {

  public static final Level OFF = new Level("OFF", Integer.MAX_VALUE);
  public static final Level SEVERE = new Level("SEVERE", 1000);
  public static final Level WARNING = new Level("WARNING", 900);
  public static final Level INFO = new Level("INFO", 800);
  public static final Level CONFIG = new Level("CONFIG", 700);
  public static final Level FINE = new Level("FINE", 500);
  public static final Level FINER = new Level("FINER", 400);
  public static final Level FINEST = new Level("FINEST", 300);
  public static final Level ALL = new Level("ALL", Integer.MIN_VALUE);

  private final String name;
  private final int value;

  private Level(String name, int value) {
    this.name = name;
    this.value = value;
  }

  public String getName() {
    return name;
  }

  public int intValue() {
    return value;
  }

  @Override
  public String toString() {
    return name;
  }
}
