package dev.jvmebpf.agent.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;

/** {@code java -jar jvm-ebpf-agent.jar <command>}: one-line errors, exit status that says what happened. */
public final class CommandLine {

  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  /** attach: the agent was already active in the target; nothing was done. */
  public static final int ALREADY_ATTACHED = 3;
  /** attach: the agent runs in the target, without eBPF. */
  public static final int DEGRADED = 4;

  private final String version;
  private final Path privateDir;
  private final Path agentJar;
  private final PrintStream out;
  private final PrintStream err;

  public CommandLine(String version, Path privateDir, Path agentJar, PrintStream out, PrintStream err) {
    this.version = version;
    this.privateDir = privateDir;
    this.agentJar = agentJar;
    this.out = out;
    this.err = err;
  }

  public int run(String[] args) {
    if (args.length == 0 || isHelp(args[0]) || args[0].equals("help")) {
      out.print(usage());
      return args.length == 0 ? USAGE : OK;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "doctor":
        if (rest.length > 0 && isHelp(rest[0])) {
          out.print(Doctor.HELP);
          return OK;
        }
        if (rest.length > 1) {
          err.println("jvm-ebpf-agent doctor: unexpected argument '" + rest[1] + "'; see doctor --help");
          return USAGE;
        }
        if (rest.length == 1) {
          long pid = pid("doctor", rest[0]);
          return pid < 0 ? USAGE : new Doctor(version, privateDir, out).run(pid);
        }
        return new Doctor(version, privateDir, out).run();
      case "demo":
        if (rest.length > 0 && isHelp(rest[0])) {
          out.print(Demo.HELP);
          return OK;
        }
        try {
          int seconds = rest.length > 0 ? Integer.parseInt(rest[0]) : 20;
          return Demo.run(seconds, out);
        } catch (NumberFormatException e) {
          err.println("jvm-ebpf-agent demo: '" + rest[0] + "' is not a number of seconds; see demo --help");
          return USAGE;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return FAILED;
        }
      case "attach": {
        if (rest.length > 0 && isHelp(rest[0])) {
          out.print(AttachCommand.HELP);
          return OK;
        }
        if (rest.length < 1 || rest.length > 2) {
          err.println("jvm-ebpf-agent attach: expected <pid> [key=value,...]; see attach --help");
          return USAGE;
        }
        long pid = pid("attach", rest[0]);
        if (pid < 0) {
          return USAGE;
        }
        return new AttachCommand(agentJar, privateDir, out, err).attach(pid, rest.length > 1 ? rest[1] : "");
      }
      case "detach": {
        if (rest.length > 0 && isHelp(rest[0])) {
          out.print(AttachCommand.DETACH_HELP);
          return OK;
        }
        if (rest.length != 1) {
          err.println("jvm-ebpf-agent detach: expected <pid>; see detach --help");
          return USAGE;
        }
        long pid = pid("detach", rest[0]);
        return pid < 0 ? USAGE : new AttachCommand(agentJar, privateDir, out, err).detach(pid);
      }
      case "list":
        if (rest.length > 0 && isHelp(rest[0])) {
          out.print(ListCommand.HELP);
          return OK;
        }
        if (rest.length > 0) {
          err.println("jvm-ebpf-agent list: unexpected argument '" + rest[0] + "'; see list --help");
          return USAGE;
        }
        return ListCommand.run(out, ProcessHandle.current().pid());
      case "version":
      case "--version":
        out.println("jvm-ebpf-agent " + version);
        return OK;
      default:
        err.println("jvm-ebpf-agent: unknown command '" + args[0] + "'; see --help");
        return USAGE;
    }
  }

  /** A pid argument, or -1 after saying why it is not one. */
  private long pid(String command, String arg) {
    try {
      long pid = Long.parseLong(arg);
      if (pid > 0) {
        return pid;
      }
    } catch (NumberFormatException ignored) {
      // Said below.
    }
    err.println("jvm-ebpf-agent " + command + ": '" + arg + "' is not a process id; see " + command + " --help");
    return -1;
  }

  private static boolean isHelp(String arg) {
    return arg.equals("--help") || arg.equals("-h");
  }

  private String usage() {
    return "jvm-ebpf-agent " + version + ": JVM telemetry aggregated in the kernel with eBPF, exported with "
        + "OpenTelemetry\n\n"
        + "As an agent:   java -javaagent:jvm-ebpf-agent.jar[=key=value,...] ...\n"
        + "Commands:      java -jar jvm-ebpf-agent.jar <command>\n"
        + "  attach <pid> load the agent into a running JVM and wait until its probes are attached\n"
        + "  detach <pid> remove the agent from a running JVM: last export, probes and threads gone\n"
        + "  list         the JVMs you may attach to, and whether the agent runs in them\n"
        + "  doctor [pid] check whether eBPF works here and what this (or that) JVM offers the probes\n"
        + "  demo         an allocation-heavy workload to watch with the agent (make demo)\n"
        + "  version      print the version\n"
        + "  --help       this text; <command> --help for one command\n";
  }
}
