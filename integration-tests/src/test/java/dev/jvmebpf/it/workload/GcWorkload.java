package dev.jvmebpf.it.workload;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.RuntimeMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * Runs in the target JVM. Waits until the agent has reported its state, then allocates for the
 * given time (keeping some objects alive so that old collections happen too) with a few
 * System.gc() calls, and prints what the JVM itself says about that window:
 *
 * <pre>
 * AGENT &lt;status&gt;
 * WINDOW_START_MS &lt;uptime&gt; / WINDOW_END_MS &lt;uptime&gt;
 * BEAN &lt;collector&gt;\t&lt;collections during the window&gt;
 * ACTION &lt;collector&gt;\t&lt;gcAction of its notifications&gt;
 * PREMAIN_NANOS &lt;how long premain took&gt;
 * CLOCK_OFFSET_NS &lt;epoch nanoseconds minus System.nanoTime()&gt;
 * GCINFO &lt;collector&gt;\t&lt;GcInfo id&gt;\t&lt;start ms&gt;\t&lt;end ms&gt; (each notified collection of the window; GcInfo's clock)
 * </pre>
 *
 * The window begins with the MXBeans' counts at the instant the agent's GC counts began, which
 * it publishes before it says it is on. args: millis [systemGcCalls [quiesce [confirmMillis]]]. With
 * confirmMillis, the end's reading is repeated that much later until two agree, and the instants
 * of the two go out as WINDOW_END_EPOCH_NS and WINDOW_CONFIRMED_EPOCH_NS. With "quiesce",
 * the allocating part begins and the window ends only once no collection has happened for half a
 * second: concurrent collectors (ZGC, Shenandoah) start cycles on their own, which must not fall
 * between a count and the agent's. (Beginning the window after that first quiet half second
 * instead left out what the kernel had counted meanwhile: under load, a cycle set off by the
 * agent's own start could still be running when the probes attached.)
 */
public final class GcWorkload {

  static volatile Object sink;

  public static void main(String[] args) throws Exception {
    long millis = Long.parseLong(args[0]);
    int systemGcs = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    boolean quiesce = args.length > 2 && args[2].equals("quiesce");
    long confirmMillis = args.length > 3 ? Long.parseLong(args[3]) : 0;
    // Listening first: registering allocates (the first use of JMX notifications), which must not
    // happen inside the window, where it could set off a collection between the agent's counts'
    // start and ours (seen: one young collection more in the kernel than in the beans).
    Map<String, String> actions = new ConcurrentHashMap<>();
    java.util.Queue<Object[]> gcInfos = new java.util.concurrent.ConcurrentLinkedQueue<>();
    for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((NotificationEmitter) bean).addNotificationListener((n, h) -> {
        if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
          GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
          actions.putIfAbsent(info.getGcName(), info.getGcAction());
          gcInfos.add(new Object[] {info.getGcName(), info.getGcInfo().getId(), info.getGcInfo().getStartTime(),
              info.getGcInfo().getEndTime()});
        }
      }, null, null);
    }
    // The window begins where the agent's GC counts begin: the MXBeans' counts it published.
    String status = Agent.awaitStatus();
    Map<String, Long> before = Agent.gcCountsAtStart();
    long windowStartMillis = ManagementFactory.getRuntimeMXBean().getUptime();
    System.out.println("AGENT " + status);
    if (quiesce) {
      stableCounts();
    }
    long end = System.nanoTime() + millis * 1_000_000L;
    long gcEvery = millis * 1_000_000L / (systemGcs + 1);
    long nextGc = System.nanoTime() + gcEvery;
    List<byte[]> retained = new ArrayList<>();
    int i = 0;
    while (System.nanoTime() < end) {
      sink = new byte[256 + (i % 4096)];
      if (i++ % 64 == 0) {
        retained.add(new byte[2048]);
        if (retained.size() > 8_000) {
          retained.subList(0, 4_000).clear();
        }
      }
      if (systemGcs > 0 && System.nanoTime() > nextGc) {
        System.gc();
        nextGc += gcEvery;
      }
    }
    retained = null;
    // Last: an explicit collection leaves the young generation empty, so the little the agent
    // allocates while exporting at exit cannot trigger a collection after our last count.
    System.gc();
    Thread.sleep(300); // GC notifications are delivered asynchronously
    Map<String, Long> after = quiesce ? stableCounts() : counts();
    long windowEndMillis = ManagementFactory.getRuntimeMXBean().getUptime();
    if (confirmMillis > 0) {
      // The window ends at a reading that a later one confirms, with the agent's periodic exports
      // in between: the test compares the beans with one of those, not with the export at exit,
      // which counts whatever begins after our last reading (a ZGC cycle in flight through a
      // quiet half second under load: its last pause counted by the kernel, not in the window).
      long endEpochNanos = epochNanos();
      long confirmedEpochNanos = 0;
      for (int attempt = 0; attempt < 10 && confirmedEpochNanos == 0; attempt++) {
        Thread.sleep(confirmMillis);
        Map<String, Long> again = counts();
        long at = epochNanos();
        if (again.equals(after)) {
          confirmedEpochNanos = at;
        } else {
          after = again;
          endEpochNanos = at;
          windowEndMillis = ManagementFactory.getRuntimeMXBean().getUptime();
        }
      }
      System.out.println("WINDOW_END_EPOCH_NS " + endEpochNanos);
      System.out.println("WINDOW_CONFIRMED_EPOCH_NS " + confirmedEpochNanos);
    }
    // A GcInfo's id is its collector's count at that collection: those after "before" up to
    // "after" are the window's. Their notifications come asynchronously: wait for all (at most 10 s).
    final Map<String, Long> from = before;
    final Map<String, Long> to = after;
    java.util.function.Predicate<Object[]> inWindow = info -> (Long) info[1] > from.get((String) info[0])
        && (Long) info[1] <= to.get((String) info[0]);
    long collections = after.entrySet().stream().mapToLong(e -> e.getValue() - from.get(e.getKey())).sum();
    long notifiedBy = System.nanoTime() + 10_000_000_000L;
    while (gcInfos.stream().filter(inWindow).count() < collections && System.nanoTime() < notifiedBy) {
      Thread.sleep(10);
    }
    // The window began where the agent's counts did, which may be before our reading of the
    // uptime: then it begins for the GC log (which stamps a pause at its end) with the end of its
    // first collection. The pause before, over by the time that one began, ends earlier, in an
    // earlier millisecond unless that collection took under 1 ms. GcInfo's times count from the
    // end of the JVM's initialization, the uptime (and the log's) from its beginning: 60-80 ms
    // apart here, 188 ms beside two busy loops, where a pause before the window, read in GcInfo's
    // clock against the uptime, fell inside it. The JVM says when its initialization ended in
    // wall-clock time (RuntimeMXBean's start time), so the gap is the uptime less the time since.
    RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
    long gcInfoToUptime = runtime.getUptime() - (System.currentTimeMillis() - runtime.getStartTime());
    for (Object[] info : gcInfos) {
      if (inWindow.test(info)) {
        windowStartMillis = Math.min(windowStartMillis, (Long) info[3] + gcInfoToUptime);
      }
    }
    System.out.println("WINDOW_START_MS " + windowStartMillis);
    System.out.println("WINDOW_END_MS " + windowEndMillis);
    for (Map.Entry<String, Long> e : after.entrySet()) {
      System.out.println("BEAN " + e.getKey() + "\t" + (e.getValue() - before.get(e.getKey())));
    }
    actions.forEach((name, action) -> System.out.println("ACTION " + name + "\t" + action));
    System.out.println("PREMAIN_NANOS " + System.getProperty("jvm.ebpf.agent.premain.nanos"));
    System.out.println("CLOCK_OFFSET_NS " + clockOffsetNanos());
    gcInfos.stream().filter(inWindow)
        .forEach(info -> System.out.println("GCINFO " + info[0] + "\t" + info[1] + "\t" + info[2] + "\t" + info[3]));
  }

  /**
   * This JVM's epoch clock minus System.nanoTime() (CLOCK_MONOTONIC, the clock of -Xlog's
   * timenanos decoration), from the tightest of a few readings: how the test puts the GC log's
   * times on the epoch scale of spans without the agent's help.
   */
  static long clockOffsetNanos() {
    long best = 0;
    long bestGap = Long.MAX_VALUE;
    for (int i = 0; i < 20; i++) {
      long before = System.nanoTime();
      java.time.Instant now = java.time.Instant.now();
      long after = System.nanoTime();
      if (after - before < bestGap) {
        bestGap = after - before;
        best = now.getEpochSecond() * 1_000_000_000L + now.getNano() - (before + (after - before) / 2);
      }
    }
    return best;
  }

  /** Counts once they have not changed for 500 ms (at most 20 s). */
  static Map<String, Long> stableCounts() throws InterruptedException {
    Map<String, Long> last = counts();
    long stableSince = System.nanoTime();
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (System.nanoTime() - stableSince < 500_000_000L && System.nanoTime() < deadline) {
      Thread.sleep(50);
      Map<String, Long> now = counts();
      if (!now.equals(last)) {
        last = now;
        stableSince = System.nanoTime();
      }
    }
    return last;
  }

  static long epochNanos() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  static Map<String, Long> counts() {
    Map<String, Long> counts = new TreeMap<>();
    for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
      counts.put(bean.getName(), bean.getCollectionCount());
    }
    return counts;
  }
}
