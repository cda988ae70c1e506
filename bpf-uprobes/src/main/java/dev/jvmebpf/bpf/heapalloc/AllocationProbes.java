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
import dev.jvmebpf.bpf.process.ProcessMemory;
import dev.jvmebpf.bpf.process.VmStructs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;

/**
 * The heap allocation probe family: uprobes, for our pid only, on the two AllocTracer hooks
 * through which HotSpot reports every new TLAB and every allocation outside a TLAB, and USDT
 * probes on its thread start and stop (see heapalloc.h). Threads count HotSpot's own allocated
 * bytes, read at the offsets of this JVM's VMStructs table, which also names classes from the
 * captured {@code Klass*}; threads are named by their Java names.
 */
public final class AllocationProbes extends ProbeFamily<AllocationSnapshot> {

  /** The C++ types whose VMStructs entries threadOffsets and KlassNames read. */
  static final Set<String> STRUCT_TYPES = Set.of("Thread", "ThreadLocalAllocBuffer", "Klass", "Symbol");


  static final String OBJECT = "heapalloc";
  /** AllocTracer::send_allocation_in_new_tlab(Klass*, HeapWord*, size_t, size_t, JavaThread*). */
  public static final String NEW_TLAB =
      "_ZN11AllocTracer27send_allocation_in_new_tlabEP5KlassPP12HeapWordImplmmP10JavaThread";
  /** AllocTracer::send_allocation_outside_tlab(Klass*, HeapWord*, size_t, JavaThread*). */
  public static final String OUTSIDE_TLAB =
      "_ZN11AllocTracer28send_allocation_outside_tlabEP5KlassPP12HeapWordImplmP10JavaThread";
  static final String OTHER = "other";
  /** The JFR hooks and thread probes the family attaches, and the VMStructs table it reads. */
  public static final ProbeRequirements NEEDS = new ProbeRequirements(
      List.of("hotspot:thread__start", "hotspot:thread__stop"),
      ProbeRequirements.symbols("AllocTracer::send_allocation_in_new_tlab", NEW_TLAB,
          "AllocTracer::send_allocation_outside_tlab", OUTSIDE_TLAB,
          "gHotSpotVMStructs (class names, threads' allocated bytes)", "gHotSpotVMStructs"), List.of());
  /** Live threads the kernel tracks at once; a thread's entry goes when it ends. */
  static final int THREAD_ENTRIES = 4096;

  private final HistogramLayout layout;
  private final int limit;
  private final KlassNames klassNames;
  /** Reads live threads' counts at each export (see liveCount); null when their offsets are unknown. */
  private final ThreadCounts threadCounts;
  private final ThreadNames threadNames = new ThreadNames();
  private final BpfMap tlabSizes;
  private final BpfMap outsideSizes;
  private final BpfMap classBytes;
  private final BpfMap liveThreads;
  private final BpfMap endedBytes;
  // Guarded by this.
  private final Map<Long, String> classNameCache = new HashMap<>();
  private Map<LiveThread, String> liveThreadNames = new HashMap<>();
  /** Threads that ended without the kernel seeing them end (see threads()), by name. */
  private final Map<String, Long> endedUnseen = new HashMap<>();
  /** What each name's counter said last: a counter never goes back (see threads()). */
  private final Map<String, Long> reported = new LinkedHashMap<>();
  private final List<String> boundedThreadNames = new ArrayList<>();

  /** An entry of alloc_threads: the same tid is another thread once its JavaThread* differs. */
  private record LiveThread(int tid, long javaThread) {}

  private AllocationProbes(BpfObject object, HistogramLayout layout, int limit, KlassNames klassNames,
      ThreadCounts threadCounts, List<String> limitations) throws BpfException {
    super(object, AllocationStructs.PROGRAMS, limitations, List.of());
    this.layout = layout;
    this.limit = limit;
    this.klassNames = klassNames;
    this.threadCounts = threadCounts;
    this.tlabSizes = object.map("alloc_tlab_size");
    this.outsideSizes = object.map("alloc_outside_size");
    this.classBytes = object.map("alloc_class_bytes");
    this.liveThreads = object.map("alloc_threads");
    this.endedBytes = object.map("alloc_ended_bytes");
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
    long[] threadOffsets = null;
    String noClassNames = "class names unavailable (%s); allocations count under \"other\"";
    String noThreadCounts = "threads' allocated bytes unknown (%s): each new TLAB counts whole, however little "
        + "of it the thread used";
    VmStructs structs = null;
    try {
      structs = VmStructs.of(jvm, STRUCT_TYPES);
    } catch (IOException e) {
      limitations.add(String.format(noClassNames, e.getMessage()));
      limitations.add(String.format(noThreadCounts, e.getMessage()));
    }
    if (structs != null) {
      try {
        names = new KlassNames(structs);
      } catch (IOException e) {
        limitations.add(String.format(noClassNames, e.getMessage()));
      }
      try {
        threadOffsets = threadOffsets(structs);
      } catch (IOException e) {
        limitations.add(String.format(noThreadCounts, e.getMessage()));
      }
    }
    FamilyConfig config = FamilyConfig.of(AllocationStructs.ALLOC_CONFIG, jvm).histogram("size_bytes", layout)
        .mapSize("alloc_outside_size", limit + 1)
        .mapSize("alloc_class_bytes", limit + 1)
        .mapSize("alloc_threads", THREAD_ENTRIES)
        .mapSize("alloc_ended_bytes", limit + 1);
    if (threadOffsets != null) {
      config.putLong("allocated_bytes_offset", threadOffsets[0]).putLong("tlab_start_offset", threadOffsets[1])
          .putLong("tlab_top_offset", threadOffsets[2]);
    }

    KlassNames klassNames = names;
    ThreadCounts threadCounts = null;
    if (threadOffsets != null) {
      try {
        threadCounts = new ThreadCounts(ProcessMemory.self(), threadOffsets);
      } catch (IOException e) {
        limitations.add("live threads' bytes are their counts at their last new TLAB (" + e.getMessage() + ")");
      }
    }
    ThreadCounts counts = threadCounts;
    long newTlab;
    long outsideTlab;
    try {
      newTlab = jvm.libjvmFileOffset(NEW_TLAB);
      outsideTlab = jvm.libjvmFileOffset(OUTSIDE_TLAB);
    } catch (IOException e) {
      closeQuietly(klassNames);
      closeQuietly(counts);
      throw new BpfException("allocation: " + e.getMessage(), e);
    }
    try {
      return open(libbpf, OBJECT, config, object -> {
        object.preferUprobeMulti("uprobe_alloc_new_tlab");
        object.preferUprobeMulti("uprobe_alloc_outside_tlab");
        object.load();
        HistogramMaps.create(object.map("alloc_outside_size"), u64(AllocationStructs.OTHER_KLASS));
        createZeroed(object.map("alloc_class_bytes"), u64(AllocationStructs.OTHER_KLASS));
        createZeroed(object.map("alloc_ended_bytes"), new byte[AllocationStructs.THREAD_NAME_LEN]);
        // Thread start and stop first: every thread the hooks count is then seen ending.
        object.attachUsdt("usdt_thread_start", jvm.pid(), jvm.libjvm(), "hotspot", "thread__start");
        object.attachUsdt("usdt_thread_stop", jvm.pid(), jvm.libjvm(), "hotspot", "thread__stop");
        object.attachUprobes("uprobe_alloc_new_tlab", jvm.pid(), jvm.libjvm(), new long[] {newTlab},
            new long[] {0}, false);
        object.attachUprobes("uprobe_alloc_outside_tlab", jvm.pid(), jvm.libjvm(), new long[] {outsideTlab},
            new long[] {0}, false);
        if (!new ThreadNames().hasJavaNames()) {
          limitations.add("thread names are the kernel's (at most 15 bytes): java.lang is not open to the agent");
        }
        return new AllocationProbes(object, layout, limit, klassNames, counts, limitations);
      });
    } catch (BpfException | RuntimeException e) {
      closeQuietly(klassNames);
      closeQuietly(counts);
      throw e;
    }
  }

  /**
   * Offsets, in a JavaThread, of Thread::_allocated_bytes and of its TLAB's _start and _top:
   * HotSpot's count of the thread's allocated bytes, as ThreadMXBean reads it.
   */
  static long[] threadOffsets(VmStructs structs) throws IOException {
    long tlab = structs.offsetOf("Thread", "_tlab");
    return new long[] {structs.offsetOf("Thread", "_allocated_bytes"),
        tlab + structs.offsetOf("ThreadLocalAllocBuffer", "_start"),
        tlab + structs.offsetOf("ThreadLocalAllocBuffer", "_top")};
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

  /**
   * Bytes by thread name: the kernel's totals of threads that ended (alloc_ended_bytes), then
   * each live thread's count (alloc_threads). A thread's entry leaves the live map before its
   * final count joins its name's total, and the totals are read first, so no read counts a
   * thread twice; one that ends between the two reads is missed by that read alone, which
   * would make its name's counter dip: each counter is held at least at what it said last.
   * An entry whose thread is gone without the kernel seeing it end (a thread attached through
   * JNI and detached) is counted here once and removed. A live thread counts HotSpot's count
   * read now (liveCount), not only the one at its last hook, which lags by what the thread
   * used of its current TLAB since (up to the whole TLAB: megabytes with a large young
   * generation).
   */
  private List<AllocationSnapshot.ThreadAllocation> threads() throws BpfException {
    Map<String, Long> bytes = new LinkedHashMap<>();
    byte[] endedValue = endedBytes.newValue();
    for (byte[] key : endedBytes.keys()) {
      if (endedBytes.lookup(key, endedValue)) {
        long sum = sumOf(endedBytes, endedValue, AllocationStructs.ALLOC_ENDED.offset("bytes"));
        String name = ThreadNames.comm(key);
        bytes.merge(name.isEmpty() ? OTHER : boundedThreadName(name), sum, Long::sum);
      }
    }
    endedUnseen.forEach((name, sum) -> bytes.merge(name, sum, Long::sum));

    Map<Long, String> live = null;
    Map<LiveThread, String> names = new HashMap<>();
    byte[] value = liveThreads.newValue();
    byte[] again = liveThreads.newValue();
    ByteBuffer in = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] key : liveThreads.keys()) {
      int tid = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN).getInt();
      // Alive is checked before the read: a thread seen ended has its final count.
      boolean gone = !ThreadNames.isAlive(tid);
      if (!liveThreads.lookup(key, value)) {
        continue;
      }
      LiveThread thread = new LiveThread(tid, in.getLong(AllocationStructs.ALLOC_THREAD.offset("java_thread")));
      String name = liveThreadNames.get(thread);
      if (name == null) {
        if (live == null) {
          live = threadNames.liveJavaThreads();
        }
        name = boundedThreadName(nameOf(tid, thread.javaThread(), value, live));
      }
      long seen = in.getLong(AllocationStructs.ALLOC_THREAD.offset("seen_bytes"));
      if (!gone) {
        seen = Math.max(seen, liveCount(key, thread.javaThread(), again));
      }
      long count = seen - in.getLong(AllocationStructs.ALLOC_THREAD.offset("base_bytes"));
      bytes.merge(name, count, Long::sum);
      if (gone) {
        endedUnseen.merge(name, count, Long::sum);
        liveThreads.delete(key);
      } else {
        names.put(thread, name);
      }
    }
    liveThreadNames = names;

    reported.forEach((name, last) -> bytes.merge(name, last, Math::max));
    List<AllocationSnapshot.ThreadAllocation> out = new ArrayList<>();
    bytes.forEach((name, sum) -> {
      reported.put(name, sum);
      out.add(new AllocationSnapshot.ThreadAllocation(name, sum));
    });
    return out;
  }

  /**
   * HotSpot's count of the live thread at {@code javaThread} now, read from its JavaThread as
   * ThreadMXBean reads another thread's; 0 when unknown. It is trusted only when the thread's
   * entry is still there, with the same JavaThread*, after the read: the entry goes at the
   * thread's thread__stop, before HotSpot frees its JavaThread, so the memory read was then the
   * live thread's (and /proc/self/mem fails rather than crashes on an address gone meanwhile).
   */
  private long liveCount(byte[] key, long javaThread, byte[] again) throws BpfException {
    if (threadCounts == null || javaThread == 0) {
      return 0;
    }
    long now = threadCounts.read(javaThread);
    if (now <= 0 || !liveThreads.lookup(key, again)) {
      return 0;
    }
    ByteBuffer check = ByteBuffer.wrap(again).order(ByteOrder.LITTLE_ENDIAN);
    return check.getLong(AllocationStructs.ALLOC_THREAD.offset("java_thread")) == javaThread ? now : 0;
  }

  /**
   * The Java name through JavaThread*, else the kernel's name captured by the probe; cut as the
   * kernel cuts the names of threads that end, so that a thread keeps its series.
   */
  private static String nameOf(int tid, long javaThread, byte[] value, Map<Long, String> live) {
    String name = javaThread != 0 ? live.get(javaThread) : null;
    if (name != null) {
      return ThreadNames.cut(name);
    }
    byte[] raw = new byte[16];
    ByteBuffer.wrap(value).get(AllocationStructs.ALLOC_THREAD.offset("comm"), raw);
    String comm = ThreadNames.comm(raw);
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
    closeQuietly(threadCounts);
  }
}
