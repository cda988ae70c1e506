package dev.jvmebpf.bpf.heapalloc;

import dev.jvmebpf.bpf.FamilyConfig;
import dev.jvmebpf.bpf.ProbeFamily;
import dev.jvmebpf.bpf.ProbeRequirements;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramMaps;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfMap;
import dev.jvmebpf.bpf.libbpf.BpfObject;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.bpf.process.VmStructs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The heap allocation probe family: uprobes, for our pid only, on the two AllocTracer hooks
 * through which HotSpot reports every new TLAB and every allocation outside a TLAB (see
 * heapalloc.h). Classes are named from the captured {@code Klass*} with the field offsets of this
 * JVM's VMStructs table; threads by their Java names.
 */
public final class AllocationProbes extends ProbeFamily<AllocationSnapshot> {

  static final String OBJECT = "heapalloc";
  /** AllocTracer::send_allocation_in_new_tlab(Klass*, HeapWord*, size_t, size_t, JavaThread*). */
  public static final String NEW_TLAB =
      "_ZN11AllocTracer27send_allocation_in_new_tlabEP5KlassPP12HeapWordImplmmP10JavaThread";
  /** AllocTracer::send_allocation_outside_tlab(Klass*, HeapWord*, size_t, JavaThread*). */
  public static final String OUTSIDE_TLAB =
      "_ZN11AllocTracer28send_allocation_outside_tlabEP5KlassPP12HeapWordImplmP10JavaThread";
  static final String OTHER = "other";
  /** The JFR hooks the family probes and the VMStructs table class names come from. */
  public static final ProbeRequirements NEEDS = new ProbeRequirements(List.of(),
      ProbeRequirements.symbols("AllocTracer::send_allocation_in_new_tlab", NEW_TLAB,
          "AllocTracer::send_allocation_outside_tlab", OUTSIDE_TLAB,
          "gHotSpotVMStructs (class names)", "gHotSpotVMStructs"), List.of());
  /** Threads the kernel tracks at once; threads that ended are folded away at each snapshot. */
  static final int THREAD_ENTRIES = 4096;

  private final HistogramLayout layout;
  private final int limit;
  private final KlassNames klassNames;
  private final ThreadNames threadNames = new ThreadNames();
  private final BpfMap tlabSizes;
  private final BpfMap outsideSizes;
  private final BpfMap classBytes;
  private final BpfMap threadBytes;
  // Guarded by this.
  private final Map<Long, String> classNameCache = new HashMap<>();
  private final Map<Integer, String> threadNameOfTid = new HashMap<>();
  private final Map<String, long[]> endedThreads = new LinkedHashMap<>();
  private final List<String> boundedThreadNames = new ArrayList<>();

  private AllocationProbes(BpfObject object, HistogramLayout layout, int limit, KlassNames klassNames,
      List<String> limitations) throws BpfException {
    super(object, AllocationStructs.PROGRAMS, limitations, List.of());
    this.layout = layout;
    this.limit = limit;
    this.klassNames = klassNames;
    this.tlabSizes = object.map("alloc_tlab_size");
    this.outsideSizes = object.map("alloc_outside_size");
    this.classBytes = object.map("alloc_class_bytes");
    this.threadBytes = object.map("alloc_thread_bytes");
  }

  /**
   * Loads the allocation program and attaches it to this JVM.
   *
   * @param layout histogram layout for sizes in bytes
   * @param limit at most this many classes and thread names get their own value; the rest
   *     count as "other"
   */
  public static AllocationProbes attach(Libbpf libbpf, JvmProcess jvm, HistogramLayout layout, int limit)
      throws BpfException {
    List<String> limitations = new ArrayList<>();
    KlassNames names = null;
    try {
      names = new KlassNames(VmStructs.of(jvm));
    } catch (IOException e) {
      limitations.add("class names unavailable (" + e.getMessage() + "); allocations count under \"other\"");
    }
    FamilyConfig config = FamilyConfig.of(AllocationStructs.ALLOC_CONFIG, jvm).histogram("size_bytes", layout)
        .mapSize("alloc_outside_size", limit + 1)
        .mapSize("alloc_class_bytes", limit + 1)
        .mapSize("alloc_thread_bytes", THREAD_ENTRIES);

    KlassNames klassNames = names;
    try {
      return open(libbpf, OBJECT, config, object -> {
        object.preferUprobeMulti("uprobe_alloc_new_tlab");
        object.preferUprobeMulti("uprobe_alloc_outside_tlab");
        object.load();
        HistogramMaps.create(object.map("alloc_outside_size"), u64(AllocationStructs.OTHER_KLASS));
        createZeroed(object.map("alloc_class_bytes"), u64(AllocationStructs.OTHER_KLASS));
        createZeroed(object.map("alloc_thread_bytes"), u32(AllocationStructs.OTHER_THREAD));
        object.attachUprobe("uprobe_alloc_new_tlab", jvm.pid(), jvm.libjvm(), NEW_TLAB, 0, false);
        object.attachUprobe("uprobe_alloc_outside_tlab", jvm.pid(), jvm.libjvm(), OUTSIDE_TLAB, 0, false);
        if (!new ThreadNames().hasJavaNames()) {
          limitations.add("thread names are the kernel's (at most 15 bytes): java.lang is not open to the agent");
        }
        return new AllocationProbes(object, layout, limit, klassNames, limitations);
      });
    } catch (BpfException | RuntimeException e) {
      closeQuietly(klassNames);
      throw e;
    }
  }

  private static void createZeroed(BpfMap map, byte[] key) throws BpfException {
    map.update(key, map.newValue(), 1 /* BPF_NOEXIST */);
  }

  @Override
  protected AllocationSnapshot read() throws BpfException {
    HistogramSnapshot tlab = HistogramMaps.read(tlabSizes, 0, layout).orElse(HistogramSnapshot.empty(layout));
    return new AllocationSnapshot(tlab, classes(), threads(), probeStats());
  }

  private List<AllocationSnapshot.ClassAllocation> classes() throws BpfException {
    Map<String, HistogramSnapshot> sizes = new LinkedHashMap<>();
    Map<String, long[]> bytes = new LinkedHashMap<>();
    for (byte[] key : outsideSizes.keys()) {
      HistogramMaps.read(outsideSizes, key, layout).ifPresent(h -> {
        if (h.count() > 0) {
          sizes.merge(className(klassOf(key)), h, HistogramSnapshot::plus);
        }
      });
    }
    byte[] value = classBytes.newValue();
    for (byte[] key : classBytes.keys()) {
      if (!classBytes.lookup(key, value)) {
        continue;
      }
      long[] sum = bytes.computeIfAbsent(className(klassOf(key)), n -> new long[2]);
      sum[0] += sumOf(classBytes, value, AllocationStructs.ALLOC_CLASS.offset("tlab_bytes"));
      sum[1] += sumOf(classBytes, value, AllocationStructs.ALLOC_CLASS.offset("outside_bytes"));
    }
    List<AllocationSnapshot.ClassAllocation> out = new ArrayList<>();
    for (Map.Entry<String, long[]> e : bytes.entrySet()) {
      if (e.getValue()[0] == 0 && e.getValue()[1] == 0 && !sizes.containsKey(e.getKey())) {
        continue;
      }
      HistogramSnapshot s = sizes.remove(e.getKey());
      out.add(new AllocationSnapshot.ClassAllocation(e.getKey(), s == null ? HistogramSnapshot.empty(layout) : s,
          e.getValue()[0], e.getValue()[1]));
    }
    // A class in the size map but not (yet) in the bytes map: a racing first allocation.
    sizes.forEach((name, s) -> out.add(new AllocationSnapshot.ClassAllocation(name, s, 0, 0)));
    return out;
  }

  private String className(long klass) {
    if (klass == AllocationStructs.OTHER_KLASS || klassNames == null) {
      return OTHER;
    }
    return classNameCache.computeIfAbsent(klass, k -> {
      try {
        return klassNames.nameOf(k);
      } catch (IOException e) {
        return OTHER;
      }
    });
  }

  private List<AllocationSnapshot.ThreadAllocation> threads() throws BpfException {
    Map<Long, String> live = null;
    Map<String, long[]> bytes = new LinkedHashMap<>();
    endedThreads.forEach((name, sum) -> bytes.put(name, sum.clone()));
    byte[] value = threadBytes.newValue();
    int stride = threadBytes.valueStride();
    for (byte[] key : threadBytes.keys()) {
      int tid = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN).getInt();
      // Alive is checked before the read: a thread seen ended has its final counts.
      boolean ended = tid != AllocationStructs.OTHER_THREAD && !ThreadNames.isAlive(tid);
      if (!threadBytes.lookup(key, value)) {
        continue;
      }
      String name;
      if (tid == AllocationStructs.OTHER_THREAD) {
        name = OTHER;
      } else {
        name = threadNameOfTid.get(tid);
        if (name == null) {
          if (live == null) {
            live = threadNames.liveJavaThreads();
          }
          name = boundedThreadName(nameOf(tid, value, stride, live));
          threadNameOfTid.put(tid, name);
        }
      }
      long tlab = sumOf(threadBytes, value, AllocationStructs.ALLOC_THREAD.offset("tlab_bytes"));
      long outside = sumOf(threadBytes, value, AllocationStructs.ALLOC_THREAD.offset("outside_bytes"));
      long[] sum = bytes.computeIfAbsent(name, n -> new long[2]);
      sum[0] += tlab;
      sum[1] += outside;
      if (ended) {
        long[] kept = endedThreads.computeIfAbsent(name, n -> new long[2]);
        kept[0] += tlab;
        kept[1] += outside;
        threadBytes.delete(key);
        threadNameOfTid.remove(tid);
      }
    }
    List<AllocationSnapshot.ThreadAllocation> out = new ArrayList<>();
    bytes.forEach((name, sum) -> out.add(new AllocationSnapshot.ThreadAllocation(name, sum[0], sum[1])));
    return out;
  }

  /** The Java name through JavaThread*, else the kernel's name captured by the probe. */
  private static String nameOf(int tid, byte[] value, int stride, Map<Long, String> live) {
    ByteBuffer in = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    String comm = "";
    for (int at = 0; at < value.length; at += stride) {
      long javaThread = in.getLong(at + AllocationStructs.ALLOC_THREAD.offset("java_thread"));
      String name = live.get(javaThread);
      if (javaThread != 0 && name != null) {
        return name;
      }
      if (comm.isEmpty()) {
        byte[] raw = new byte[16];
        in.get(at + AllocationStructs.ALLOC_THREAD.offset("comm"), raw);
        comm = ThreadNames.comm(raw);
      }
    }
    return comm.isEmpty() ? ThreadNames.commOf(tid) : comm;
  }

  private String boundedThreadName(String name) {
    if (boundedThreadNames.contains(name)) {
      return name;
    }
    if (boundedThreadNames.size() < limit) {
      boundedThreadNames.add(name);
      return name;
    }
    return OTHER;
  }

  private static long sumOf(BpfMap map, byte[] value, int offset) {
    ByteBuffer in = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    long sum = 0;
    for (int cpu = 0; cpu < map.copies(); cpu++) {
      sum += in.getLong(cpu * map.valueStride() + offset);
    }
    return sum;
  }

  private static long klassOf(byte[] key) {
    return ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  private static byte[] u64(long v) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
  }

  private static byte[] u32(int v) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c != null) {
      try {
        c.close();
      } catch (Exception ignored) {
        // Closing a read-only /proc/self/mem channel.
      }
    }
  }

  @Override
  protected void release() {
    closeQuietly(klassNames);
  }
}
