package dev.jvmebpf.agent.cli;

import dev.jvmebpf.agent.ProbeFamilies;
import dev.jvmebpf.bpf.ProbeFamily;
import dev.jvmebpf.bpf.elf.ElfFile;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfPermissionException;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.bpf.libc.ProbePlacement;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code doctor}: what the kernel, the privileges and this JVM's libjvm and libc offer the
 * agent, ending with a real load-and-attach of the probe families. Exit status 0 when eBPF
 * works here, 1 otherwise.
 */
final class Doctor {

  static final String HELP = "usage: java -jar jvm-ebpf-agent.jar doctor [pid]\n\n"
      + "Checks the kernel (version, BTF, lockdown), this process's capabilities, whether BPF programs\n"
      + "can be loaded, which USDT probes and symbols the probes need are present in the libjvm.so and\n"
      + "libc of the java running it (run it with your application's java), and finally attaches and\n"
      + "detaches the probes for real. Exit status 0 when eBPF works here, 1 otherwise.\n\n"
      + "With a pid: the same for that running JVM (its capabilities, its libjvm.so and libc, whether it\n"
      + "takes an attach), without attaching anything to it.\n";

  /** USDT probes the families attach to, libjvm symbols (readable name to symbol) and libc functions they probe. */
  static final List<String> USDT = ProbeFamilies.ALL.stream().flatMap(f -> f.needs().usdtProbes().stream())
      .distinct().toList();
  static final Map<String, String> LIBJVM_SYMBOLS = new LinkedHashMap<>();
  static final List<String> LIBC_SYMBOLS = ProbeFamilies.ALL.stream().flatMap(f -> f.needs().libcFunctions().stream())
      .distinct().toList();

  static {
    ProbeFamilies.ALL.forEach(f -> LIBJVM_SYMBOLS.putAll(f.needs().libjvmSymbols()));
  }

  private static final int CAP_SYS_ADMIN = 21;
  private static final int CAP_PERFMON = 38;
  private static final int CAP_BPF = 39;

  private final String version;
  private final Path privateDir;
  private final PrintStream out;

  Doctor(String version, Path privateDir, PrintStream out) {
    this.version = version;
    this.privateDir = privateDir;
    this.out = out;
  }

  /**
   * {@code doctor <pid>}: the same checks for the JVM {@code pid}: its capabilities (the agent in
   * it loads BPF with them), its libjvm and libc, and whether it takes an attach. No probe is
   * attached to it.
   */
  int run(long pid) {
    JvmTarget target;
    try {
      target = AttachCommand.usable(pid);
    } catch (JvmTarget.Unusable e) {
      out.println("jvm-ebpf-agent doctor: " + e.getMessage());
      return CommandLine.FAILED;
    }
    out.println("jvm-ebpf-agent " + version + " doctor, for JVM " + pid + " (" + target.main() + ", Java "
        + target.javaVersion() + ")");
    line("kernel", read("/proc/sys/kernel/osrelease") + " (" + System.getProperty("os.arch") + ")");
    line("BTF", Files.exists(Path.of("/sys/kernel/btf/vmlinux")) ? "yes (/sys/kernel/btf/vmlinux)" : "no");
    line("lockdown", read("/sys/kernel/security/lockdown"));
    boolean privileged = capabilities(read("/proc/" + pid + "/status"), "JVM " + pid + "'s");
    boolean readable = true;
    try {
      libjvm(inTarget(pid, target.libjvm()));
      if (target.libc().isPresent()) {
        libc(inTarget(pid, target.libc().get()));
      } else {
        line("libc", "not found in /proc/" + pid + "/maps");
      }
    } catch (IOException e) {
      line("libjvm", "NO: " + e.getMessage());
      readable = false;
    }
    line("attach", target.agentActive() ? "the agent is active in it already"
        : "possible (java -jar jvm-ebpf-agent.jar attach " + pid + ")");
    boolean ok = privileged && readable;
    line("verdict", ok ? "the agent can use its probes in JVM " + pid
        : "the agent would run in degraded mode in JVM " + pid + " (see above)");
    return ok ? CommandLine.OK : CommandLine.FAILED;
  }

  /** A file as the target sees it, through its root (it may run in another mount namespace). */
  private static Path inTarget(long pid, Path file) {
    Path through = Path.of("/proc/" + pid + "/root" + file);
    return Files.isReadable(through) ? through : file;
  }

  int run() {
    out.println("jvm-ebpf-agent " + version + " doctor");
    line("kernel", read("/proc/sys/kernel/osrelease") + " (" + System.getProperty("os.arch") + ")");
    line("BTF", Files.exists(Path.of("/sys/kernel/btf/vmlinux")) ? "yes (/sys/kernel/btf/vmlinux)" : "no");
    line("lockdown", read("/sys/kernel/security/lockdown"));
    line("perf_event_paranoid", read("/proc/sys/kernel/perf_event_paranoid"));
    capabilities(read("/proc/self/status"), "this process's");

    boolean bpfWorks = false;
    Libbpf libbpf = null;
    try {
      libbpf = Libbpf.load(privateDir);
      int probe = libbpf.probeUprobePrograms();
      if (probe == 1) {
        line("BPF programs", "can be loaded (uprobe/USDT programs)");
        bpfWorks = true;
      } else {
        line("BPF programs", "NO: " + libbpf.describe(-probe) + "; " + BpfPermissionException.HOW_TO_GRANT);
      }
    } catch (BpfException e) {
      line("BPF programs", "NO: " + e.getMessage());
    }

    JvmProcess jvm = null;
    try {
      jvm = JvmProcess.current();
      libjvm(jvm.libjvm());
      if (jvm.libc().isPresent()) {
        libc(jvm.libc().get());
      } else {
        line("libc", "not found in /proc/self/maps");
      }
    } catch (IOException e) {
      line("libjvm", "NO: " + e.getMessage());
    }

    List<String> off = bpfWorks && jvm != null ? attach(libbpf, jvm) : null;
    boolean works = off != null && !off.contains(GC);
    line("verdict", !works ? "eBPF does not work here: the agent would run in degraded mode (GC metrics from the MXBeans)"
        : off.isEmpty() ? "eBPF works here: the agent will use its probes"
        : "eBPF works here for the default families but " + String.join(", ", off)
            + " (see above): the agent will use the others");
    return works ? CommandLine.OK : CommandLine.FAILED;
  }

  /** The family without which eBPF counts as not working here (the others are additions). */
  static final String GC = "gc";

  /** Reports the capabilities in a /proc status text; true when they suffice for BPF. */
  private boolean capabilities(String status, String whose) {
    long effective = 0;
    String uid = "?";
    for (String l : status.split("\n")) {
      if (l.startsWith("CapEff:")) {
        effective = Long.parseUnsignedLong(l.substring(7).trim(), 16);
      } else if (l.startsWith("Uid:")) {
        uid = l.substring(4).trim().split("\\s+")[1];
      }
    }
    List<String> have = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (Object[] cap : new Object[][] {{"CAP_BPF", CAP_BPF}, {"CAP_PERFMON", CAP_PERFMON},
        {"CAP_SYS_ADMIN", CAP_SYS_ADMIN}}) {
      ((effective >>> (int) cap[1] & 1) != 0 ? have : missing).add((String) cap[0]);
    }
    boolean enough = have.contains("CAP_SYS_ADMIN") || (have.contains("CAP_BPF") && have.contains("CAP_PERFMON"));
    line("user", "uid " + uid);
    line("capabilities", whose + " effective: " + (have.isEmpty() ? "none of CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN"
        : String.join(" ", have)) + (enough ? "" : "; missing: " + String.join(" ", missing)
        + "; grant CAP_BPF and CAP_PERFMON (e.g. setcap cap_bpf,cap_perfmon+ep on the java binary, "
        + "or --cap-add BPF --cap-add PERFMON for a container) or run as root"));
    return enough;
  }

  private void libjvm(Path libjvm) throws IOException {
    ElfFile elf = ElfFile.read(libjvm);
    line("libjvm", libjvm.toString());
    List<ElfFile.UsdtProbe> probes = elf.usdtProbes();
    for (String id : USDT) {
      long sites = probes.stream().filter(p -> p.id().equals(id)).count();
      out.printf("  usdt %-34s %s%n", id, sites > 0 ? "found (" + sites + (sites == 1 ? " site)" : " sites)") : "MISSING");
    }
    for (Map.Entry<String, String> symbol : LIBJVM_SYMBOLS.entrySet()) {
      out.printf("  symbol %-50s %s%n", symbol.getKey(), elf.symbol(symbol.getValue()).isPresent() ? "found" : "MISSING");
    }
  }

  private void libc(Path libc) throws IOException {
    ElfFile elf = ElfFile.read(libc);
    line("libc", libc.toString());
    List<String> found = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (String function : LIBC_SYMBOLS) {
      (elf.symbol(function).isPresent() ? found : missing).add(function);
    }
    out.println("  symbols found: " + String.join(" ", found) + (missing.isEmpty() ? "" : "; MISSING: "
        + String.join(" ", missing)));
  }

  /** Loads and attaches each family for real, then detaches; the families on by default that cannot attach. */
  private List<String> attach(Libbpf libbpf, JvmProcess jvm) {
    SpanEvents events = null;
    try {
      events = SpanEvents.create(libbpf, SpanEvents.DEFAULT_BYTES);
      line("span ring buffer", "created (" + events.bytes() / 1024 + " KiB)");
    } catch (BpfException e) {
      line("span ring buffer", "FAILED: " + e.getMessage() + "; the metrics do not need it, spans do");
    }
    Map<String, Long> thresholds = new LinkedHashMap<>();
    for (ProbeFamilies.Family<?> family : ProbeFamilies.ALL) {
      family.spans().forEach(spans -> thresholds.put(spans.name(), 0L));
    }
    ProbeFamilies.AttachContext context = new ProbeFamilies.AttachContext(libbpf, jvm,
        HistogramLayout.nanosecondsAsSeconds(3), HistogramLayout.create(3, 1), 64, false, events, thresholds);
    try {
      return attachEach(context);
    } finally {
      if (events != null) {
        events.close();
      }
    }
  }

  /** Each family one by one: attached and detached, or why not; the families on by default that failed. */
  private List<String> attachEach(ProbeFamilies.AttachContext context) {
    List<String> off = new ArrayList<>();
    for (ProbeFamilies.Family<?> family : ProbeFamilies.ALL) {
      String optIn = family.onByDefault() ? "" : " (opt-in: " + family.configKey() + "=true)";
      try {
        family.requireKernel();
      } catch (BpfException e) {
        line("probes " + family.name(), "OFF: " + e.getMessage() + optIn);
        if (family.onByDefault()) {
          off.add(family.name());
        }
        continue;
      }
      try (ProbeFamily<?> live = family.attacher().attach(context)) {
        line("probes " + family.name(), "attached " + live.attachedPrograms().size() + " programs, detached" + optIn
            + (live.limitations().isEmpty() ? "" : "; " + String.join("; ", live.limitations())));
        placements(live.placements());
      } catch (BpfException e) {
        // An opt-in family's failure does not make eBPF unusable here.
        line("probes " + family.name(), "FAILED: " + e.getMessage() + optIn);
        if (family.onByDefault()) {
          off.add(family.name());
        }
      }
    }
    return off;
  }

  /** Where each libc function's probe went: an emulated instruction costs a tenth of a single-stepped one. */
  private void placements(List<ProbePlacement> placements) {
    placements.forEach(p -> out.printf("  %-15s +%-3d %s%n", p.function(), p.offset(),
        (p.emulated() ? "emulated" : "single-stepped") + ": " + p.reason()));
  }

  private void line(String what, String text) {
    out.printf("%-20s %s%n", what, text);
  }

  private static String read(String file) {
    try {
      return Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
    } catch (IOException | RuntimeException e) {
      return "unknown (" + file + " unreadable)";
    }
  }
}
