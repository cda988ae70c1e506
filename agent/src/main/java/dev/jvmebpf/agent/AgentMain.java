package dev.jvmebpf.agent;

import dev.jvmebpf.agent.cli.CommandLine;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.Properties;

/** Entry points the bootstrap calls, by reflection, inside the agent's own class loader. */
public final class AgentMain {

  private AgentMain() {}

  /**
   * Starts the agent in this JVM; on the init thread, never throws. {@code privateDir} holds the
   * extracted files; the bootstrap removes it when the JVM exits.
   */
  public static void start(String arguments, Instrumentation instrumentation, String entry, Path privateDir) {
    AgentRuntime.start(arguments, instrumentation, entry, privateDir, version());
  }

  /**
   * {@link #start}, as the bootstrap calls it through reflection: {@code context} holds the
   * Instrumentation, the entry point's name, the private directory and how the native module was
   * defined (for the debug log). Two reference parameters, as premain has: the JDK then reuses,
   * for this reflective call, the method handles it made for calling premain, instead of making
   * new ones (about 15 ms of every start).
   */
  public static void start(String arguments, Object[] context) {
    AgentRuntime.start(arguments, (Instrumentation) context[0], (String) context[1], (Path) context[2], version(),
        context.length > 3 ? (String) context[3] : null);
  }

  /**
   * Flushes and stops the running agent, if any (the JVM is exiting). Never throws. Its parameters
   * are unused: {@link #start(String, Object[])}'s shape, so that the bootstrap's reflective call at
   * exit reuses the method handles made for that one instead of spinning new ones.
   */
  public static void stop(String unused, Object[] alsoUnused) {
    AgentRuntime.stopRunning("JVM exit", true);
  }

  /**
   * Detaches the running agent: last export, every BPF link, map and program destroyed, its
   * threads ended; the JVM goes on and a later start works. Never throws.
   */
  public static void detach(String arguments) {
    AgentRuntime.detach(arguments);
  }

  /** The command line; returns the exit status. */
  public static int commandLine(String[] args, Path privateDir, Path agentJar) {
    return new CommandLine(version(), privateDir, agentJar, System.out, System.err).run(args);
  }

  public static String version() {
    try (InputStream in = AgentMain.class.getResourceAsStream("version.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
