package dev.jvmebpf.bpf.gc;

import dev.jvmebpf.bpf.FamilyConfig;
import dev.jvmebpf.bpf.ProbeFamily;
import dev.jvmebpf.bpf.ProbeRequirements;
import dev.jvmebpf.bpf.events.EventStructs;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramMaps;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfMap;
import dev.jvmebpf.bpf.libbpf.BpfObject;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.lang.management.GarbageCollectorMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The GC probe family: HotSpot's {@code hotspot:gc__begin/gc__end} and
 * {@code hotspot:mem__pool__gc__begin/__end} USDT probes in our own libjvm.so, attached for our
 * pid only (see gc.h for how collections are recognised). Reads aggregated durations per
 * collector and pool usage after GC; never individual events. Counts nothing until
 * {@link #startCounting()}: the agent starts the counts just before it says it is on, at an instant
 * whose GC MXBean counts it knows ({@link #countedAfter()}), so that the two agree from there.
 */
public final class GcProbes extends ProbeFamily<GcSnapshot> {

  static final String OBJECT = "gc";
  /** The USDT probes the family attaches to. */
  public static final ProbeRequirements NEEDS = ProbeRequirements.usdt("hotspot:gc__begin", "hotspot:gc__end",
      "hotspot:mem__pool__gc__begin", "hotspot:mem__pool__gc__end");

  private final GcCollectors collectors;
  private final HistogramLayout layout;
  private final BpfMap durations;
  private final BpfMap poolUsage;
  private final BpfMap gate;
  /** How often {@link #openGate} looks for an instant without a collection. */
  static final int GATE_ATTEMPTS = 20;
  private boolean gateOpen; // guarded by this (ProbeFamily.startCounting)
  private volatile Map<String, Long> countedAfter;
  /** The GC MXBeans' counts; a test's own reading can stand in. */
  Supplier<Map<String, Long>> beanCounts = GcProbes::mxBeanCounts;

  private GcProbes(BpfObject object, GcCollectors collectors, HistogramLayout layout, List<String> limitations)
      throws BpfException {
    super(object, GcStructs.PROGRAMS, limitations, List.of());
    this.collectors = collectors;
    this.layout = layout;
    this.durations = object.map("gc_duration");
    this.poolUsage = object.map("gc_pool_usage");
    this.gate = object.map("gc_gate");
  }

  /**
   * Loads the GC program and attaches it to this JVM. Fails when the collection probes cannot
   * attach; a failure of the pause probes alone (needed only for ZGC's and Shenandoah's pause
   * collectors) is reported among the {@link #limitations()}.
   */
  public static GcProbes attach(Libbpf libbpf, JvmProcess jvm, GcCollectors collectors, HistogramLayout layout)
      throws BpfException {
    return attach(libbpf, jvm, collectors, layout, null, EventStructs.SPANS_OFF);
  }

  /**
   * {@link #attach(Libbpf, JvmProcess, GcCollectors, HistogramLayout)}, and every collection or pause
   * lasting at least {@code spanMinNanos} (0: every one) becomes a {@link GcEvent} in {@code events};
   * no spans when {@code events} is null.
   */
  public static GcProbes attach(Libbpf libbpf, JvmProcess jvm, GcCollectors collectors, HistogramLayout layout,
      SpanEvents events, long spanMinNanos) throws BpfException {
    return open(libbpf, OBJECT, config(jvm, collectors, layout).spans(events, "span_min_ns", spanMinNanos), object -> {
      object.load();
      writeNames(object.map("gc_name_ids"), collectors);
      if (events != null) {
        // Before the first probe fires.
        events.decode(EventStructs.SOURCE_GC, (header, record) -> decode(collectors, header, record));
      }
      List<String> failures = new ArrayList<>();
      // The collection probes carry every collector that records pool usage: required.
      object.attachUsdt("usdt_mem_pool_gc_begin", jvm.pid(), jvm.libjvm(), "hotspot", "mem__pool__gc__begin");
      object.attachUsdt("usdt_mem_pool_gc_end", jvm.pid(), jvm.libjvm(), "hotspot", "mem__pool__gc__end");
      // The pause probes only serve "... Pauses" collectors.
      try {
        object.attachUsdt("usdt_gc_begin", jvm.pid(), jvm.libjvm(), "hotspot", "gc__begin");
        object.attachUsdt("usdt_gc_end", jvm.pid(), jvm.libjvm(), "hotspot", "gc__end");
      } catch (BpfException e) {
        failures.add("pauses of ZGC/Shenandoah unavailable: " + e.getMessage());
      }
      return new GcProbes(object, collectors, layout, failures);
    });
  }

  /** A struct gc_event as a GcEvent; null when it is not one. */
  static GcEvent decode(GcCollectors collectors, SpanEvents.Header header, ByteBuffer record) {
    if (record.remaining() < GcStructs.GC_EVENT.size()) {
      return null;
    }
    int manager = record.getInt(GcStructs.GC_EVENT.offset("manager"));
    GcCollectors.Collector collector = collectors.collectors().stream().filter(c -> c.id() == manager)
        .findFirst().orElse(null);
    return new GcEvent(collector != null ? collector.name() : "other",
        collector != null ? collector.action() : "end of GC", header.kind() == GcStructs.EVENT_PAUSE,
        header.startNanos(), header.endNanos(), header.tid());
  }

  static FamilyConfig config(JvmProcess jvm, GcCollectors collectors, HistogramLayout layout) {
    int[] pauses = collectors.pauseCollectors();
    int[] cycles = collectors.cycleCollectors();
    return FamilyConfig.of(GcStructs.GC_CONFIG, jvm)
        .putInt("pause_manager", 0, pauses[0])
        .putInt("pause_manager", 1, pauses[1])
        .putInt("minor_cycle_manager", cycles[0])
        .putInt("major_cycle_manager", cycles[1])
        .putInt("pool_count", collectors.poolCount())
        .histogram("duration_ns", layout)
        .mapSize("gc_duration", collectors.collectorIdLimit());
  }

  private static void writeNames(BpfMap names, GcCollectors collectors) throws BpfException {
    for (GcCollectors.Collector c : collectors.collectors()) {
      names.update(nameKey(c.name()), HistogramMaps.key(c.id()), 0);
    }
    for (GcCollectors.Pool p : collectors.pools()) {
      names.update(nameKey(p.name()), HistogramMaps.key(p.id()), 0);
    }
  }

  /** A struct gc_name: the name's first GC_NAME_LEN - 1 bytes, NUL-padded. */
  static byte[] nameKey(String name) {
    byte[] key = new byte[GcStructs.NAME_LENGTH];
    byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(bytes, 0, key, 0, Math.min(bytes.length, GcStructs.NAME_LENGTH - 1));
    return key;
  }

  /**
   * Opens the program's gate at an instant the GC MXBeans' counts are known for: read just before
   * and just after the gate's write, they are equal, so no collection ended in between and the
   * kernel counts exactly the collections the MXBeans count after {@link #countedAfter()}. (A
   * Java thread reads them outside any pause, while the gate's write, a system call, may fall
   * inside one.) A collection running while the gate opens (a concurrent cycle) counts at its
   * end, as its MXBean counts it: the programs track begins and ends whatever the gate, and only
   * count ends while it is open. When a collection did end in between, the gate is closed again,
   * what it let count is cleared, and the next attempt begins; after {@value #GATE_ATTEMPTS} the
   * gate stays open, those counts unknown.
   */
  @Override
  protected void openGate() throws BpfException {
    if (gateOpen) {
      return;
    }
    for (int attempt = 1; ; attempt++) {
      Map<String, Long> before = beanCounts.get();
      gate.update(HistogramMaps.key(0), HistogramMaps.key(1), 0);
      Map<String, Long> after = beanCounts.get();
      if (before != null && before.equals(after)) {
        countedAfter = Map.copyOf(before);
        break;
      }
      if (before == null || attempt == GATE_ATTEMPTS) {
        break;
      }
      gate.update(HistogramMaps.key(0), HistogramMaps.key(0), 0);
      clearCounts();
    }
    gateOpen = true;
  }

  /**
   * The GC MXBeans' collection counts, by collector, at the instant the gate opened: a collector's
   * collections counted here are its MXBean count minus this. Empty when no such instant was found
   * (collections kept ending meanwhile) or the MXBeans cannot be read.
   */
  public Optional<Map<String, Long>> countedAfter() {
    return Optional.ofNullable(countedAfter);
  }

  /** The GC MXBeans' counts by collector name; null when they cannot be read. */
  static Map<String, Long> mxBeanCounts() {
    try {
      Map<String, Long> counts = new TreeMap<>();
      for (GarbageCollectorMXBean bean : GcBeans.get().collectors()) {
        counts.put(bean.getName(), bean.getCollectionCount());
      }
      return counts;
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }

  /**
   * Forgets what the programs counted; with the gate closed, none counts meanwhile. The
   * collections in flight (gc_active, gc_pauses) stay: they count at their ends, once it opens.
   */
  private void clearCounts() throws BpfException {
    byte[] empty = durations.newValue();
    for (int i = 0; i < durations.maxEntries(); i++) {
      durations.update(HistogramMaps.key(i), empty, 0);
    }
    for (byte[] key : poolUsage.keys()) {
      poolUsage.delete(key);
    }
  }

  public GcCollectors collectors() {
    return collectors;
  }

  /** Reads the kernel's aggregates; O(collectors x buckets + pools), independent of GC count. */
  @Override
  protected GcSnapshot read() throws BpfException {
    List<GcSnapshot.CollectorDurations> byCollector = new ArrayList<>();
    HistogramSnapshot other = HistogramMaps.read(durations, GcStructs.OTHER_ID, layout)
        .orElse(HistogramSnapshot.empty(layout));
    for (GcCollectors.Collector c : collectors.collectors()) {
      HistogramSnapshot h = HistogramMaps.read(durations, c.id(), layout).orElse(HistogramSnapshot.empty(layout));
      byCollector.add(new GcSnapshot.CollectorDurations(c.name(), c.action(), h));
    }
    if (other.count() > 0) {
      byCollector.add(new GcSnapshot.CollectorDurations("other", "end of GC", other));
    }
    return new GcSnapshot(byCollector, poolsAfterGc(), probeStats());
  }

  private List<GcSnapshot.PoolUsage> poolsAfterGc() throws BpfException {
    record Reading(long used, long committed, long time) {}
    Map<Integer, Reading> latest = new HashMap<>();
    Map<Integer, List<String>> poolsOf = new HashMap<>();
    for (GcCollectors.Collector c : collectors.collectors()) {
      poolsOf.put(c.id(), c.pools());
    }
    Map<String, Integer> poolIds = new HashMap<>();
    for (GcCollectors.Pool p : collectors.pools()) {
      poolIds.put(p.name(), p.id());
    }
    byte[] value = poolUsage.newValue();
    for (byte[] key : poolUsage.keys()) {
      ByteBuffer k = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN);
      int manager = k.getInt(GcStructs.GC_POOL_KEY.offset("manager"));
      int pool = k.getInt(GcStructs.GC_POOL_KEY.offset("pool"));
      // Only a pool its collector manages, as the MXBeans define "collection usage".
      List<String> managed = poolsOf.getOrDefault(manager, List.of());
      if (managed.stream().noneMatch(name -> poolIds.getOrDefault(name, -1) == pool)) {
        continue;
      }
      if (!poolUsage.lookup(key, value)) {
        continue;
      }
      ByteBuffer v = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
      Reading r = new Reading(v.getLong(GcStructs.GC_POOL_USAGE.offset("used_bytes")),
          v.getLong(GcStructs.GC_POOL_USAGE.offset("committed_bytes")),
          v.getLong(GcStructs.GC_POOL_USAGE.offset("time_ns")));
      latest.merge(pool, r, (a, b) -> a.time() >= b.time() ? a : b);
    }
    List<GcSnapshot.PoolUsage> out = new ArrayList<>();
    for (GcCollectors.Pool p : collectors.pools()) {
      Reading r = latest.get(p.id());
      if (r != null) {
        out.add(new GcSnapshot.PoolUsage(p.name(), p.type(), r.used(), r.committed()));
      }
    }
    return out;
  }
}
