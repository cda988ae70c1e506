package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.LongRunningApp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code detach}: a JVM that had the agent attached is left as it was (no BPF program or link,
 * no file descriptor, no thread of ours) and keeps running; attaching again works, and 20
 * attach/detach cycles leak nothing.
 *
 * <p>What the JDK itself keeps once something used it is allowed, each by what it is: the agent
 * jar on the class path (the JVM opens it to load the agent class and never closes it), the
 * attach listener's socket and thread, /dev/random and /dev/urandom (opened once per JVM when its
 * security providers first initialize; our OTLP client's TLS support does that), and NIO's
 * pre-close descriptor (one end of a socketpair, made once when NIO first loads). An application
 * that already used any of these sees nothing added at all.
 */
class DetachIT extends ReceiverTest {

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void detachLeavesTheJvmAsItWas(int jdk) throws Exception {
    Path home = Fixtures.jdk(jdk);
    TargetJvm.Running target = TargetJvm.on(home).jvmArgs("-Xmx128m").start(LongRunningApp.class);
    try {
      awaitReady(target);
      String pid = Long.toString(target.pid());
      Map<String, Integer> fdsBefore = fds(target.pid());
      Map<String, Integer> threadsBefore = threads(target.pid());
      assertTrue(ProcessIsolationIT.awaitNoProgramsOfOurs(Duration.ofSeconds(10)).isEmpty(),
          "programs of ours left by an earlier JVM");
      List<Integer> programsBefore = programIds();

      receiver.clear();
      AgentCli.Output attach = AgentCli.run(home, null, Fixtures.agentJar(), "attach", pid,
          receiver.agentArguments("grpc").replace("interval=600s", "interval=500ms"));
      assertEquals(0, attach.exitCode(), attach.toString());
      List<Integer> ours = new ArrayList<>(programIds());
      ours.removeAll(programsBefore);
      assertTrue(ours.size() >= 8, "programs of the attached agent: " + ours);
      assertEquals(1, processContextMappings(target.pid()), "the attached agent's OTEL_CTX mapping");
      awaitExport();

      AgentCli.Output detach = AgentCli.run(home, null, Fixtures.agentJar(), "detach", pid);
      assertEquals(0, detach.exitCode(), detach.toString());
      assertEquals("detached from " + pid, detach.stdout().strip());

      List<Integer> programsAfter = programsWithout(ours);
      assertTrue(programsAfter.stream().noneMatch(ours::contains), "programs left: " + programsAfter);
      String links = ProcessIsolationIT.bpftool("link", "show");
      for (int id : ours) {
        assertTrue(!Pattern.compile("prog " + id + "\\b").matcher(links).find(), "a link of program " + id + " left");
      }
      Map<String, Integer> fdsAfter = fds(target.pid());
      Map<String, Integer> added = difference(fdsAfter, fdsBefore);
      Map<String, Integer> gone = difference(fdsBefore, fdsAfter);
      assertEquals(Map.of(), gone, "descriptors closed that the application had");
      assertTrue(jvmOwned(added, target.pid()), "descriptors left besides the JVM's own: " + added
          + " (attach listener " + attachListenerSocket(target.pid()) + "; sockets: " + sockets() + ")");
      Map<String, Integer> threadsAfter = threads(target.pid());
      assertTrue(threadsAfter.keySet().stream().noneMatch(DetachIT::agentThread), "threads left: " + threadsAfter);
      System.out.printf("JDK %d: after detach %d descriptors (%d before, JVM-owned added: %s), threads %s%n", jdk,
          total(fdsAfter), total(fdsBefore), added.keySet(), difference(threadsAfter, threadsBefore));
      assertEquals(0, processContextMappings(target.pid()), "an OTEL_CTX mapping left");
      assertTrue(target.isAlive(), "the application goes on");

      AgentCli.Output again = AgentCli.run(home, null, Fixtures.agentJar(), "attach", pid, "exporter=none");
      assertEquals(0, again.exitCode(), again.toString());
      assertEquals(0, AgentCli.run(home, null, Fixtures.agentJar(), "detach", pid).exitCode());
      AgentCli.Output none = AgentCli.run(home, null, Fixtures.agentJar(), "detach", pid);
      assertEquals(1, none.exitCode(), none.toString());
      assertTrue(none.stderr().startsWith("jvm-ebpf-agent detach: no agent active in " + pid), none.toString());
    } finally {
      target.kill();
    }
  }

  /**
   * With socket.timing=jdk, detach leaves the JDK's rewritten socket classes idle and the next
   * attach puts its timing point back (the class it defined in sun.nio.ch is reused, its state
   * reset): each attach installs the JDK timing point again (its debug line), none falls back to
   * libc.
   */
  @Test
  void theJdkSocketTimingPointComesBackAfterDetach() throws Exception {
    Path home = Fixtures.jdk(25);
    TargetJvm.Running target = TargetJvm.on(home).jvmArgs("-Xmx128m").start(LongRunningApp.class);
    try {
      awaitReady(target);
      String pid = Long.toString(target.pid());
      for (int cycle = 1; cycle <= 2; cycle++) {
        AgentCli.Output attach = AgentCli.run(home, null, Fixtures.agentJar(), "attach", pid,
            "exporter=none,socket.timing=jdk,debug=true");
        assertEquals(0, attach.exitCode(), "cycle " + cycle + ": " + attach);
        String stderr = target.stderrSoFar();
        assertEquals(cycle, stderr.split("JDK socket timing point installed", -1).length - 1,
            "cycle " + cycle + ": the JDK timing point installed once per attach: " + stderr);
        assertTrue(!stderr.contains("socket.timing=jdk unavailable"), stderr);
        AgentCli.Output detach = AgentCli.run(home, null, Fixtures.agentJar(), "detach", pid);
        assertEquals(0, detach.exitCode(), "cycle " + cycle + ": " + detach);
      }
      assertTrue(target.isAlive(), "the application goes on");
    } finally {
      target.kill();
    }
  }

  @Test
  void twentyCyclesLeakNothing() throws Exception {
    Path home = Fixtures.jdk(17);
    TargetJvm.Running target = TargetJvm.on(home).jvmArgs("-Xmx128m", "-XX:+UseG1GC").start(LongRunningApp.class);
    try {
      awaitReady(target);
      String pid = Long.toString(target.pid());
      assertTrue(ProcessIsolationIT.awaitNoProgramsOfOurs(Duration.ofSeconds(10)).isEmpty(),
          "programs of ours left by an earlier JVM");
      List<Integer> programsBefore = programIds();
      Map<String, Integer> fdsFirst = null;
      Map<String, Integer> threadsFirst = null;
      LiveHeap heapFirst = null;
      for (int cycle = 1; cycle <= 20; cycle++) {
        AgentCli.Output attach = AgentCli.run(home, null, Fixtures.agentJar(), "attach", pid, "exporter=none");
        assertEquals(0, attach.exitCode(), "cycle " + cycle + ": " + attach);
        if (cycle == 2) {
          // While attached, the histogram shows them: the zero counts below can fail.
          LiveHeap attached = liveHeap(home, target.pid());
          for (String cls : AGENT_OBJECTS) {
            assertTrue(attached.instances().getOrDefault(cls, 0L) > 0, cls + " while attached: " + attached.instances());
          }
        }
        AgentCli.Output detach = AgentCli.run(home, null, Fixtures.agentJar(), "detach", pid);
        assertEquals(0, detach.exitCode(), "cycle " + cycle + ": " + detach);
        assertEquals(programsBefore, programsSettled(programsBefore), "programs after cycle " + cycle);
        if (cycle == 1) {
          fdsFirst = fds(target.pid());
          threadsFirst = ownThreadsIgnoringIdleHttp(threads(target.pid()));
        } else if (cycle == 3) {
          // After a few cycles: what the first start leaves for good (classes, caches) has settled.
          heapFirst = liveHeap(home, target.pid());
        }
      }
      assertEquals(fdsFirst, fds(target.pid()), "descriptors after 20 cycles against after the first");
      assertEquals(threadsFirst, ownThreadsIgnoringIdleHttp(threads(target.pid())), "threads after 20 cycles");
      LiveHeap heapLast = liveHeap(home, target.pid());
      System.out.printf("20 attach/detach cycles: live heap %d KiB after the third, %d KiB after the last "
          + "(%+.1f%%); descriptors and threads unchanged%n", heapFirst.bytes() / 1024, heapLast.bytes() / 1024,
          100.0 * (heapLast.bytes() - heapFirst.bytes()) / heapFirst.bytes());
      assertTrue(Math.abs(heapLast.bytes() - heapFirst.bytes()) <= 0.05 * heapFirst.bytes(),
          "live heap " + heapFirst.bytes() + " -> " + heapLast.bytes() + " bytes");
      // Nothing of a detached agent is alive: not its runtime, probes or SDK.
      for (String cls : AGENT_OBJECTS) {
        assertEquals(0L, heapLast.instances().getOrDefault(cls, 0L), "live instances of " + cls);
      }
      assertTrue(target.isAlive());
    } finally {
      target.kill();
    }
  }

  /** Classes of which a running agent has instances, and a detached one none. */
  static final List<String> AGENT_OBJECTS = List.of("dev.jvmebpf.agent.AgentRuntime", "dev.jvmebpf.bpf.gc.GcProbes",
      "dev.jvmebpf.bpf.libbpf.BpfObject", "dev.jvmebpf.otel.KernelMetricProducer",
      "dev.jvmebpf.shaded.io.opentelemetry.sdk.metrics.SdkMeterProvider");

  /** The agent's own threads, by the names it and its SDK give them. */
  static boolean agentThread(String name) {
    return name.startsWith("jvm-ebpf-agent") || name.startsWith("PeriodicMetricR");
  }

  /**
   * Thread names, except the idle HTTP client threads of a previous export (OkHttp's task runner
   * and Okio's watchdog end on their own after 60 s without work).
   */
  private static Map<String, Integer> ownThreadsIgnoringIdleHttp(Map<String, Integer> threads) {
    Map<String, Integer> out = new TreeMap<>(threads);
    out.keySet().removeIf(n -> n.startsWith("OkHttp") || n.startsWith("Okio"));
    return out;
  }

  private static boolean jvmOwned(Map<String, Integer> added, long pid) throws IOException {
    String attachSocket = attachListenerSocket(pid);
    Set<String> preClose = unnamedUnixSockets();
    int preCloseSeen = 0;
    for (Map.Entry<String, Integer> e : added.entrySet()) {
      String what = e.getKey();
      if (e.getValue() != 1) {
        return false;
      }
      if (preClose.contains(what) && preCloseSeen++ == 0) {
        continue;
      }
      // The private directory's lock (held as long as the JVM lives, so that no other JVM takes
      // the directory for a dead one's: the files stay for a later attach).
      boolean lock = what.startsWith(System.getProperty("java.io.tmpdir", "/tmp").replaceAll("/$", "")
          + "/jvm-ebpf-agent-") && what.endsWith("/.lock");
      if (!(what.equals(Fixtures.agentJar().toString()) || what.equals("/dev/random")
          || what.equals("/dev/urandom") || what.equals(attachSocket) || lock)) {
        return false;
      }
    }
    return true;
  }

  /** "socket:[inode]" of every connected Unix stream socket without a name (NIO's socketpair end). */
  private static Set<String> unnamedUnixSockets() throws IOException {
    Set<String> out = new java.util.HashSet<>();
    for (String line : Files.readAllLines(Path.of("/proc/net/unix"), StandardCharsets.UTF_8)) {
      String[] f = line.trim().split("\\s+");
      // Num RefCount Protocol Flags Type St Inode [Path]: type 0001 stream, state 03 connected.
      if (f.length == 7 && f[4].equals("0001") && f[5].equals("03")) {
        out.add("socket:[" + f[6] + "]");
      }
    }
    return out;
  }

  /** "socket:[inode]" of the JVM's attach listener (/tmp/.java_pid&lt;pid&gt;), from /proc/net/unix. */
  private static String attachListenerSocket(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/net/unix"), StandardCharsets.UTF_8)) {
      String[] f = line.trim().split("\\s+");
      // HotSpot binds <tmp>/.java_pid<pid>.tmp, then renames it; /proc shows the bound name.
      if (f.length >= 8 && (f[7].endsWith("/.java_pid" + pid) || f[7].endsWith("/.java_pid" + pid + ".tmp"))) {
        return "socket:[" + f[6] + "]";
      }
    }
    return "none";
  }

  /** /proc/net/tcp, tcp6 and unix, for messages. */
  private static String sockets() throws IOException {
    StringBuilder out = new StringBuilder();
    for (String f : List.of("/proc/net/tcp", "/proc/net/tcp6", "/proc/net/unix")) {
      out.append('\n').append(f).append(":\n").append(Files.readString(Path.of(f)));
    }
    return out.toString();
  }

  /** How many mappings of the process are an OTEP 4719 process context. */
  private static long processContextMappings(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/maps")).stream().filter(l -> l.contains("OTEL_CTX")).count();
  }

  /** Open descriptors by what they point at (counts of each). */
  static Map<String, Integer> fds(long pid) throws IOException {
    Map<String, Integer> out = new TreeMap<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          out.merge(Files.readSymbolicLink(fd).toString(), 1, Integer::sum);
        } catch (IOException closedMeanwhile) {
          // Gone between list and read.
        }
      }
    }
    return out;
  }

  static Map<String, Integer> threads(long pid) throws IOException {
    Map<String, Integer> out = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          out.merge(Files.readString(task.resolve("comm")).strip(), 1, Integer::sum);
        } catch (IOException endedMeanwhile) {
          // Gone between list and read.
        }
      }
    }
    return out;
  }

  private static Map<String, Integer> difference(Map<String, Integer> a, Map<String, Integer> b) {
    Map<String, Integer> out = new TreeMap<>();
    a.forEach((k, n) -> {
      int more = n - b.getOrDefault(k, 0);
      if (more > 0) {
        out.put(k, more);
      }
    });
    return out;
  }

  private static int total(Map<String, Integer> counts) {
    return counts.values().stream().mapToInt(Integer::intValue).sum();
  }

  /**
   * The loaded programs once they equal {@code expected}, or after 2 s. The kernel frees a program
   * only after the RCU grace periods that follow its last link's destruction (bpf_link_free defers
   * the program's release), so right after a detach returned its programs may still be listed for
   * a few tens of milliseconds; a leaked program stays.
   */
  /** The loaded programs once none of {@code gone} is among them, or after 2 s (see programsSettled). */
  private static List<Integer> programsWithout(List<Integer> gone) throws Exception {
    long deadline = System.nanoTime() + 2_000_000_000L;
    List<Integer> now = programIds();
    while (now.stream().anyMatch(gone::contains) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      now = programIds();
    }
    return now;
  }

  private static List<Integer> programsSettled(List<Integer> expected) throws Exception {
    long deadline = System.nanoTime() + 2_000_000_000L;
    List<Integer> now = programIds();
    while (!now.equals(expected) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      now = programIds();
    }
    return now;
  }

  private static List<Integer> programIds() throws Exception {
    return ProcessIsolationIT.programs().stream().map(ProcessIsolationIT.Program::id).sorted().toList();
  }

  /** Live objects after a full collection, from the JVM's own class histogram (jcmd). */
  record LiveHeap(long bytes, Map<String, Long> instances) {}

  private static LiveHeap liveHeap(Path home, long pid) throws Exception {
    // GC.class_histogram collects first and counts only what survives: the application's
    // garbage, allocated between a collection and a reading, does not count.
    String histogram = run(home.resolve("bin/jcmd").toString(), Long.toString(pid), "GC.class_histogram");
    Map<String, Long> instances = new TreeMap<>();
    long total = -1;
    for (String line : histogram.lines().toList()) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 3 && f[0].equals("Total")) {
        total = Long.parseLong(f[2]);
      } else if (f.length >= 4 && f[0].endsWith(":")) {
        instances.merge(f[3], Long.parseLong(f[1]), Long::sum);
      }
    }
    if (total < 0) {
      throw new AssertionError("no total in jcmd GC.class_histogram:\n" + histogram);
    }
    return new LiveHeap(total, instances);
  }

  private static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " failed:\n" + out);
    }
    return out;
  }

  private void awaitExport() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (receiver.latest("jvm.ebpf.probe.events").isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertTrue(receiver.latest("jvm.ebpf.probe.events").isPresent(), "the attached agent exported");
  }

  private static void awaitReady(TargetJvm.Running target) throws InterruptedException {
    // The JVM must be up (its main running) before the attach file makes sense to it.
    Thread.sleep(1500);
    assertTrue(target.isAlive(), "the target started");
  }
}
