package dev.jvmebpf.agent.bootstrap;

import java.lang.instrument.Instrumentation;

/**
 * Entry points of jvm-ebpf-agent.jar: {@code premain} for {@code -javaagent}, {@code agentmain}
 * for loading into a running JVM, {@code main} for the command line.
 *
 * <p>This class and its package are the only ones the application's class loader sees. They use
 * the JDK alone, keep no state worth mentioning, and never let anything escape into the
 * application: {@code premain} starts one daemon thread and returns; extracting the agent, loading
 * its isolated class loaders, BPF and the OpenTelemetry SDK all happen on that thread.
 */
public final class AgentBootstrap {

  /** How long premain/agentmain took, in nanoseconds (read by tests and {@code doctor}). */
  public static final String PREMAIN_NANOS_PROPERTY = "jvm.ebpf.agent.premain.nanos";

  private AgentBootstrap() {}

  public static void premain(String arguments, Instrumentation instrumentation) {
    start(arguments, instrumentation, "premain");
  }

  public static void agentmain(String arguments, Instrumentation instrumentation) {
    start(arguments, instrumentation, "agentmain");
  }

  public static void main(String[] args) {
    int status;
    try {
      status = IsolatedRuntime.runCommandLine(args, LauncherInstrumentation.get());
    } catch (Throwable e) {
      System.err.println("jvm-ebpf-agent: " + (e instanceof IsolatedRuntime.StartFailure ? e.getMessage() : e));
      status = 70;
    }
    System.exit(status);
  }

  private static void start(String arguments, Instrumentation instrumentation, String entry) {
    long started = System.nanoTime();
    try {
      Thread init = new Thread(new Init(arguments, instrumentation, entry), "jvm-ebpf-agent-init");
      init.setDaemon(true);
      init.start();
    } catch (Throwable e) {
      System.err.println("[jvm-ebpf-agent] not started: " + e);
    } finally {
      try {
        System.setProperty(PREMAIN_NANOS_PROPERTY, Long.toString(System.nanoTime() - started));
      } catch (Throwable ignored) {
        // A security manager may refuse; the figure is only informative.
      }
    }
  }

  /**
   * The init thread's task. A class, not a lambda: premain runs on the application's main thread,
   * where linking a lambda would cost the JVM a class spun at run time.
   */
  private static final class Init implements Runnable {
    private final String arguments;
    private final Instrumentation instrumentation;
    private final String entry;

    Init(String arguments, Instrumentation instrumentation, String entry) {
      this.arguments = arguments;
      this.instrumentation = instrumentation;
      this.entry = entry;
    }

    @Override
    public void run() {
      IsolatedRuntime.startAgent(arguments, instrumentation, entry);
    }
  }
}
