package dev.jvmebpf.bpf.gc;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JVM's garbage collectors (memory managers) and memory pools as its MXBeans name them, with
 * the small integer ids the GC program uses for them and the role each collector plays.
 *
 * <p>Collectors get ids 1..n, pools the ids after them; 0 is `other`. Ids beyond
 * {@link GcStructs#MAX_IDS} are not given (those names then count as `other`).
 *
 * <p>Roles, from HotSpot's naming (the kernel needs them because some managers fire no pool
 * probes, see gc.h): a collector named "... Pauses" is credited with the gc__begin/gc__end
 * pauses that contain no collection (ZGC, Shenandoah). With two of them (generational ZGC,
 * "ZGC Minor Pauses" and "ZGC Major Pauses") the minor one is credited while a "... Minor
 * Cycles" collection runs, as HotSpot itself decides.
 */
public final class GcCollectors {

  /** A collector: what a GarbageCollectorMXBean counts. */
  public record Collector(int id, String name, String action, List<String> pools) {}

  /** A memory pool; {@code type} is "heap" or "non_heap" (semantic-convention values). */
  public record Pool(int id, String name, String type) {}

  private final List<Collector> collectors;
  private final List<Pool> pools;
  private final int poolCount;

  private GcCollectors(List<Collector> collectors, List<Pool> pools, int poolCount) {
    this.collectors = List.copyOf(collectors);
    this.pools = List.copyOf(pools);
    this.poolCount = poolCount;
  }

  /** The collectors and pools of this JVM. */
  public static GcCollectors ofThisJvm() {
    GcBeans beans = GcBeans.get();
    Map<String, List<String>> managers = new LinkedHashMap<>();
    for (GarbageCollectorMXBean bean : beans.collectors()) {
      managers.put(bean.getName(), List.of(bean.getMemoryPoolNames()));
    }
    Map<String, String> poolTypes = new LinkedHashMap<>();
    for (MemoryPoolMXBean pool : beans.pools()) {
      poolTypes.put(pool.getName(), pool.getType() == MemoryType.HEAP ? "heap" : "non_heap");
    }
    return of(managers, poolTypes);
  }

  /** Collector names with the pools each manages (in bean order), and every pool's type. */
  public static GcCollectors of(Map<String, List<String>> managers, Map<String, String> poolTypes) {
    List<Collector> collectors = new ArrayList<>();
    List<Pool> pools = new ArrayList<>();
    int next = 1;
    for (Map.Entry<String, List<String>> m : managers.entrySet()) {
      if (next >= GcStructs.MAX_IDS) {
        break;
      }
      collectors.add(new Collector(next++, m.getKey(), actionOf(m.getKey()), List.copyOf(m.getValue())));
    }
    for (Map.Entry<String, String> p : poolTypes.entrySet()) {
      if (next >= GcStructs.MAX_IDS) {
        break;
      }
      pools.add(new Pool(next++, p.getKey(), p.getValue()));
    }
    return new GcCollectors(collectors, pools, poolTypes.size());
  }

  /**
   * The "GC action" HotSpot reports for a collector's collections (the gcAction of its
   * GarbageCollectionNotificationInfo, the {@code jvm.gc.action} attribute).
   */
  public static String actionOf(String collector) {
    return switch (collector) {
      case "Copy", "PS Scavenge", "G1 Young Generation" -> "end of minor GC";
      case "MarkSweepCompact", "PS MarkSweep", "G1 Old Generation" -> "end of major GC";
      case "G1 Concurrent GC" -> "end of concurrent GC pause";
      default -> collector.endsWith(" Pauses") ? "end of GC pause"
          : collector.endsWith(" Cycles") ? "end of GC cycle" : "end of GC";
    };
  }

  public List<Collector> collectors() {
    return collectors;
  }

  public List<Pool> pools() {
    return pools;
  }

  /**
   * The JVM's memory pools, all of them (HotSpot reports each at every collection's start and
   * end), whether or not they got an id.
   */
  public int poolCount() {
    return poolCount;
  }

  /** Highest id in use plus one: the size the per-collector map needs. */
  public int collectorIdLimit() {
    return collectors.size() + 1;
  }

  /**
   * Ids credited with bare pauses, {@code [when no minor cycle runs, when one does]};
   * 0 where no collector takes them.
   */
  public int[] pauseCollectors() {
    List<Collector> pauses = named(" Pauses");
    if (pauses.size() == 1) {
      return new int[] {pauses.get(0).id(), pauses.get(0).id()};
    }
    int minor = idContaining(pauses, "Minor");
    int major = idContaining(pauses, "Major");
    return new int[] {major, minor};
  }

  /** Ids of the minor and major cycle collectors of a generational ZGC; 0 when absent. */
  public int[] cycleCollectors() {
    List<Collector> cycles = named(" Cycles");
    return new int[] {idContaining(cycles, "Minor"), idContaining(cycles, "Major")};
  }

  // Loops, not streams: a stream's terminal operations spin classes of the JDK at their first use.
  private List<Collector> named(String suffix) {
    List<Collector> out = new ArrayList<>();
    for (Collector c : collectors) {
      if (c.name().endsWith(suffix)) {
        out.add(c);
      }
    }
    return out;
  }

  private static int idContaining(List<Collector> candidates, String word) {
    for (Collector c : candidates) {
      if (c.name().contains(word)) {
        return c.id();
      }
    }
    return 0;
  }
}
