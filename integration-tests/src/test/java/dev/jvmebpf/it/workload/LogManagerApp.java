package dev.jvmebpf.it.workload;

import java.util.logging.LogManager;

/**
 * An application that, like a container (WildFly, or Log4j's JUL bridge set up in code), chooses
 * java.util.logging's LogManager in its main method, after the agent is on and has been
 * exporting for a while: java.util.logging takes the property only if nothing initialized it
 * before. Prints "LOG_MANAGER" and the class it got, and whether a logger of its own works.
 */
public final class LogManagerApp {

  /** The application's own LogManager. */
  public static final class Chosen extends LogManager {}

  public static void main(String[] args) throws Exception {
    System.out.println("AGENT " + Agent.awaitStatus());
    Thread.sleep(Long.parseLong(args[0])); // the agent's exports (and the SDK's logging) meanwhile
    System.setProperty("java.util.logging.manager", Chosen.class.getName());
    System.out.println("LOG_MANAGER " + LogManager.getLogManager().getClass().getName());
    java.util.logging.Logger own = java.util.logging.Logger.getLogger("app");
    System.out.println("APP_LOGGER " + (own.getParent() != null && own.isLoggable(java.util.logging.Level.INFO)));
  }
}
