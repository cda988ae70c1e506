package dev.jvmebpf.agent.cli;

import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Properties;
import java.util.UUID;
import net.bytebuddy.agent.VirtualMachine;

/**
 * {@code attach <pid> [key=value,...]}: loads this jar as an agent into a running JVM and waits
 * until the agent there reports whether its probes are attached. The agent publishes its state in
 * the target's system properties, which the attach protocol lets us read.
 */
final class AttachCommand {

  static final String HELP = """
      usage: java -jar jvm-ebpf-agent.jar attach <pid> [key=value,...]

      Loads the agent into the running JVM <pid> (same user, or root) with the given settings
      (the same keys as -javaagent:jvm-ebpf-agent.jar=...), waits until its probes are attached
      or have failed, and says which.

      exit status: 0 probes attached; 3 already attached (nothing done); 4 agent running without
      eBPF (degraded, the line says why); 1 attach failed (the line says why).
      JDK 21+ prints its own warning about a dynamically loaded agent on the target's stderr;
      start the target with -XX:+EnableDynamicAgentLoading to silence it.
      """;

  static final String DETACH_HELP = """
      usage: java -jar jvm-ebpf-agent.jar detach <pid>

      Asks the agent in the running JVM <pid> to detach: it exports one last time, destroys every
      BPF link, map and program it made and ends its threads; the JVM goes on, and a later attach
      works again. The agent's classes stay loaded (a later attach reuses them).

      exit status: 0 detached; 1 failed or no agent active there (the line says which).
      """;

  static final String STATUS = "jvm.ebpf.agent.status";
  static final String ATTACH_ID = "jvm.ebpf.agent.attach.id";
  static final long WAIT_MILLIS = 30_000;
  /** The agent argument that makes a running agent detach (IsolatedRuntime.DETACH_ARGUMENT). */
  static final String DETACH = "command=detach";

  private final Path agentJar;
  private final Path privateDir;
  private final PrintStream out;
  private final PrintStream err;

  AttachCommand(Path agentJar, Path privateDir, PrintStream out, PrintStream err) {
    this.agentJar = agentJar;
    this.privateDir = privateDir;
    this.out = out;
    this.err = err;
  }

  int attach(long pid, String options) {
    JvmTarget target;
    try {
      target = usable(pid);
    } catch (JvmTarget.Unusable e) {
      err.println("jvm-ebpf-agent attach: " + e.getMessage());
      return CommandLine.FAILED;
    }
    try {
      Libbpf libbpf = Libbpf.load(privateDir);
      VirtualMachine vm = AttachConnection.open(pid, libbpf);
      try {
        String status = properties(vm).getProperty(STATUS);
        if (isActive(status)) {
          err.println("jvm-ebpf-agent attach: already attached to " + pid + " (" + status + "); nothing done");
          return CommandLine.ALREADY_ATTACHED;
        }
        String id = UUID.randomUUID().toString();
        vm.loadAgent(agentJar.toString(), "attach.id=" + id + (options.isBlank() ? "" : "," + options));
        Properties reported = awaitReport(vm, id);
        status = reported == null ? null : reported.getProperty(STATUS);
        if (status == null) {
          err.println("jvm-ebpf-agent attach: the agent in " + pid + " did not report within "
              + WAIT_MILLIS / 1000 + " s; see the target's stderr");
          return CommandLine.FAILED;
        }
        out.println("attached to " + pid + " (" + target.main() + ", Java " + target.javaVersion() + "): " + status);
        if (status.startsWith("on:") || status.startsWith("partial:")) {
          return CommandLine.OK;
        }
        return status.startsWith("degraded:") ? CommandLine.DEGRADED : CommandLine.FAILED;
      } finally {
        vm.detach();
      }
    } catch (BpfException | IOException | RuntimeException e) {
      err.println("jvm-ebpf-agent attach: cannot attach to " + pid + ": " + describe(e));
      return CommandLine.FAILED;
    }
  }

  int detach(long pid) {
    try {
      usable(pid);
    } catch (JvmTarget.Unusable e) {
      err.println("jvm-ebpf-agent detach: " + e.getMessage());
      return CommandLine.FAILED;
    }
    try {
      Libbpf libbpf = Libbpf.load(privateDir);
      VirtualMachine vm = AttachConnection.open(pid, libbpf);
      try {
        String status = properties(vm).getProperty(STATUS);
        if (!isActive(status)) {
          err.println("jvm-ebpf-agent detach: no agent active in " + pid
              + (status == null ? "" : " (" + status + ")") + "; nothing done");
          return CommandLine.FAILED;
        }
        String id = UUID.randomUUID().toString();
        vm.loadAgent(agentJar.toString(), DETACH + ",attach.id=" + id);
        Properties reported = awaitReport(vm, id);
        status = reported == null ? null : reported.getProperty(STATUS);
        if (!"detached".equals(status)) {
          err.println("jvm-ebpf-agent detach: the agent in " + pid + " did not confirm within " + WAIT_MILLIS / 1000
              + " s" + (status == null ? "" : " (status " + status + ")"));
          return CommandLine.FAILED;
        }
        out.println("detached from " + pid);
        return CommandLine.OK;
      } finally {
        vm.detach();
      }
    } catch (BpfException | IOException | RuntimeException e) {
      err.println("jvm-ebpf-agent detach: cannot reach " + pid + ": " + describe(e));
      return CommandLine.FAILED;
    }
  }

  /** The target, once it is known to be a JVM that takes attach requests. */
  static JvmTarget usable(long pid) throws JvmTarget.Unusable {
    JvmTarget target = JvmTarget.inspect(pid);
    if (target.attachDisabled()) {
      throw new JvmTarget.Unusable("the JVM " + pid + " (" + target.main()
          + ") was started with -XX:+DisableAttachMechanism; it accepts no agent at run time");
    }
    return target;
  }

  /** The target's properties once the agent loaded with {@code id} has left "starting"; null on timeout. */
  static Properties awaitReport(VirtualMachine vm, String id) throws IOException {
    long deadline = System.nanoTime() + WAIT_MILLIS * 1_000_000L;
    while (System.nanoTime() < deadline) {
      Properties p = properties(vm);
      String status = p.getProperty(STATUS);
      if (id.equals(p.getProperty(ATTACH_ID)) && status != null && !status.equals("starting")) {
        return p;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
    return null;
  }

  /** How often a properties request the target failed with its own NullPointerException is repeated. */
  static final int PROPERTIES_ATTEMPTS = 20;

  /**
   * The target's system properties. HotSpot copies them key by key from a snapshot of the names
   * ({@code jdk.internal.vm.VMSupport.onlyStrings}, JDK 17 and 25 alike), so a property cleared in
   * the target between the two steps makes the request fail there with a NullPointerException,
   * which the attach listener sends back as its answer. The agent clears properties while it
   * starts and detaches, just when we poll, and the application may at any time: such an answer
   * is asked again; any other failure is not.
   */
  static Properties properties(VirtualMachine vm) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        return vm.getSystemProperties();
      } catch (IllegalStateException e) {
        if (attempt >= PROPERTIES_ATTEMPTS || !isClearedPropertyRace(e)) {
          throw e;
        }
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while reading the target's properties", e);
      }
    }
  }

  /** Byte Buddy raises the target's error answer as an IllegalStateException carrying its text. */
  static boolean isClearedPropertyRace(IllegalStateException e) {
    String message = e.getMessage();
    return message != null && message.trim().startsWith("java.lang.NullPointerException");
  }

  static boolean isActive(String status) {
    return status != null && (status.startsWith("on:") || status.startsWith("partial:")
        || status.startsWith("degraded:") || status.equals("starting"));
  }

  static String describe(Throwable e) {
    String message = e.getMessage();
    if (message != null && message.startsWith("Target VM did not respond")) {
      return "its attach listener did not answer within " + AttachConnection.ATTEMPTS * AttachConnection.PAUSE_MILLIS
          / 1000 + " s (is it suspended, or still starting?)";
    }
    return message == null ? e.toString() : message;
  }
}
