package dev.jvmebpf.agent.bootstrap;

import java.lang.instrument.Instrumentation;

/**
 * The jar's {@code Launcher-Agent-Class}: when it runs as {@code java -jar}, the JVM hands us
 * an Instrumentation before {@code main}, which the command line needs to grant its own
 * modules native access (no JDK 24+ warnings). It does nothing else.
 */
public final class LauncherInstrumentation {

  private static volatile Instrumentation instrumentation;

  private LauncherInstrumentation() {}

  public static void agentmain(String arguments, Instrumentation inst) {
    instrumentation = inst;
  }

  static Instrumentation get() {
    return instrumentation;
  }
}
