package dev.jvmebpf.agent.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** {@code list}: the JVMs on this machine the caller may attach to, and whether our agent runs in each. */
final class ListCommand {

  static final String HELP = """
      usage: java -jar jvm-ebpf-agent.jar list

      The HotSpot JVMs on this machine that you may attach to (your own, or all as root), with pid,
      main class or jar, Java version and whether jvm-ebpf-agent is active in them. Read from
      /proc only: listing attaches to nothing. JVMs started with -XX:+DisableAttachMechanism are
      left out.
      """;

  private ListCommand() {}

  static int run(PrintStream out, long self) {
    List<JvmTarget> jvms = JvmTarget.all().stream()
        .filter(t -> t.pid() != self && !t.attachDisabled()).toList();
    out.printf(Locale.ROOT, "%-8s %-10s %-6s %s%n", "PID", "JAVA", "AGENT", "MAIN");
    for (JvmTarget t : jvms) {
      out.printf(Locale.ROOT, "%-8d %-10s %-6s %s%n", t.pid(), t.javaVersion(), t.agentActive() ? "yes" : "no",
          t.main());
    }
    return CommandLine.OK;
  }
}
