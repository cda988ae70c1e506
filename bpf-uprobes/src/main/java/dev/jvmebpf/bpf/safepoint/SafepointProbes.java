package dev.jvmebpf.bpf.safepoint;

import dev.jvmebpf.bpf.FamilyConfig;
import dev.jvmebpf.bpf.elf.ElfFile;
import dev.jvmebpf.bpf.events.EventStructs;
import dev.jvmebpf.bpf.events.SpanEvents;
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
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The safepoint probe family: USDT {@code hs_private:safepoint__begin/__end} in our own
 * libjvm.so, for our pid only, with the VM operation and time to safepoint read from HotSpot's
 * own variables (see safepoint.h).
 */
public final class SafepointProbes extends ProbeFamily<SafepointSnapshot> {

  static final String OBJECT = "safepoint";
  static final String CURRENT_TYPE = "_ZN16SafepointTracing13_current_typeE";
  static final String BEGIN_TIME = "_ZN16SafepointTracing29_last_safepoint_begin_time_nsE";
  static final String SYNC_TIME = "_ZN16SafepointTracing28_last_safepoint_sync_time_nsE";
  static final String OPERATION_NAMES = "_ZN12VM_Operation6_namesE";
  /** The USDT probes the family attaches to and the HotSpot variables it reads. */
  public static final ProbeRequirements NEEDS = new ProbeRequirements(
      List.of("hs_private:safepoint__begin", "hs_private:safepoint__end"),
      ProbeRequirements.symbols("SafepointTracing::_current_type", CURRENT_TYPE,
          "SafepointTracing::_last_safepoint_begin_time_ns", BEGIN_TIME,
          "SafepointTracing::_last_safepoint_sync_time_ns", SYNC_TIME,
          "VM_Operation::_names", OPERATION_NAMES), List.of());

  private final HistogramLayout layout;
  private final List<String> operationNames;
  private final BpfMap total;
  private final BpfMap sync;

  private SafepointProbes(BpfObject object, HistogramLayout layout, List<String> operationNames,
      List<String> limitations) throws BpfException {
    super(object, SafepointStructs.PROGRAMS, limitations, List.of());
    this.layout = layout;
    this.operationNames = operationNames;
    this.total = object.map("safepoint_duration");
    this.sync = object.map("safepoint_sync_duration");
  }

  /**
   * Loads the safepoint program and attaches it to this JVM.
   *
   * @param operationLimit at most this many distinct VM operations get their own histogram;
   *     the rest count as "other"
   */
  public static SafepointProbes attach(Libbpf libbpf, JvmProcess jvm, HistogramLayout layout, int operationLimit)
      throws BpfException {
    return attach(libbpf, jvm, layout, operationLimit, null, EventStructs.SPANS_OFF);
  }

  /**
   * {@link #attach(Libbpf, JvmProcess, HistogramLayout, int)}, and every safepoint lasting at least
   * {@code spanMinNanos} becomes a {@link SafepointEvent} in {@code events} (none when it is null).
   */
  public static SafepointProbes attach(Libbpf libbpf, JvmProcess jvm, HistogramLayout layout, int operationLimit,
      SpanEvents events, long spanMinNanos) throws BpfException {
    List<String> limitations = new ArrayList<>();
    Optional<Long> currentType;
    Optional<Long> beginTime;
    Optional<Long> syncTime;
    List<String> names;
    try {
      Map<String, ElfFile.Symbol> symbols = jvm.libjvmElf().symbols(List.of(CURRENT_TYPE, BEGIN_TIME, SYNC_TIME,
          OPERATION_NAMES));
      currentType = address(jvm, symbols.get(CURRENT_TYPE));
      beginTime = address(jvm, symbols.get(BEGIN_TIME));
      syncTime = address(jvm, symbols.get(SYNC_TIME));
      names = currentType.isPresent() && symbols.containsKey(OPERATION_NAMES)
          ? operationNames(jvm, symbols.get(OPERATION_NAMES)) : List.of();
    } catch (IOException e) {
      throw new BpfException("read libjvm symbols for safepoints: " + e.getMessage(), e);
    }
    if (currentType.isEmpty() || names.isEmpty()) {
      limitations.add("VM operation names unavailable (no SafepointTracing::_current_type or VM_Operation::_names"
          + " in " + jvm.libjvm() + "); safepoints count as \"other\"");
    }
    if (beginTime.isEmpty() || syncTime.isEmpty()) {
      limitations.add("time to safepoint unavailable (no SafepointTracing timestamps in " + jvm.libjvm() + ")");
    }

    FamilyConfig config = FamilyConfig.of(SafepointStructs.SAFEPOINT_CONFIG, jvm)
        .putLong("current_type_addr", names.isEmpty() ? 0 : currentType.get())
        .putLong("begin_time_addr", beginTime.orElse(0L))
        .putLong("sync_time_addr", syncTime.orElse(0L))
        .putInt("op_id_limit", names.size() + 1)
        .histogram("duration_ns", layout)
        .spans(events, "span_min_ns", spanMinNanos)
        // One entry per operation seen, up to the bound, plus `other`.
        .mapSize("safepoint_duration", operationLimit + 1)
        .mapSize("safepoint_sync_duration", operationLimit + 1);

    if (events != null) {
      List<String> known = names;
      events.decode(EventStructs.SOURCE_SAFEPOINT, (header, record) -> decode(known, header, record));
    }
    return open(libbpf, OBJECT, config, object -> {
      object.load();
      HistogramMaps.create(object.map("safepoint_duration"), SafepointStructs.OTHER_OP);
      HistogramMaps.create(object.map("safepoint_sync_duration"), SafepointStructs.OTHER_OP);
      object.attachUsdt("usdt_safepoint_begin", jvm.pid(), jvm.libjvm(), "hs_private", "safepoint__begin");
      object.attachUsdt("usdt_safepoint_end", jvm.pid(), jvm.libjvm(), "hs_private", "safepoint__end");
      return new SafepointProbes(object, layout, names, limitations);
    });
  }

  private static Optional<Long> address(JvmProcess jvm, ElfFile.Symbol symbol) throws IOException {
    return symbol == null ? Optional.empty() : Optional.of(jvm.libjvmAddress(symbol));
  }

  /** HotSpot's VM operation names, VM_Operation::_names, indexed by VMOp_Type. */
  static List<String> operationNames(JvmProcess jvm) throws IOException {
    Optional<ElfFile.Symbol> symbol = jvm.libjvmElf().symbol(OPERATION_NAMES);
    return symbol.isEmpty() ? List.of() : operationNames(jvm, symbol.get());
  }

  private static List<String> operationNames(JvmProcess jvm, ElfFile.Symbol table) throws IOException {
    List<String> names = new ArrayList<>();
    try (ProcessMemory memory = ProcessMemory.self()) {
      ByteBuffer pointers = memory.read(jvm.libjvmAddress(table), (int) table.size());
      while (pointers.remaining() >= 8) {
        long p = pointers.getLong();
        names.add(p == 0 ? "" : memory.readString(p, 128));
      }
    }
    return List.copyOf(names);
  }

  @Override
  protected SafepointSnapshot read() throws BpfException {
    List<SafepointSnapshot.OperationDurations> out = new ArrayList<>();
    for (byte[] key : total.keys()) {
      int op = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN).getInt();
      Optional<HistogramSnapshot> t = HistogramMaps.read(total, op, layout);
      if (t.isEmpty() || t.get().count() == 0) {
        continue;
      }
      HistogramSnapshot s = HistogramMaps.read(sync, op, layout).orElse(HistogramSnapshot.empty(layout));
      out.add(new SafepointSnapshot.OperationDurations(operationName(op), t.get(), s));
    }
    return new SafepointSnapshot(out, probeStats());
  }

  private String operationName(int op) {
    return operationName(operationNames, op);
  }

  private static String operationName(List<String> names, int op) {
    if (op == SafepointStructs.OTHER_OP || op > names.size() || names.get(op - 1).isEmpty()) {
      return "other";
    }
    return names.get(op - 1);
  }

  /** A struct safepoint_event as a SafepointEvent; null when it is not one. */
  static SafepointEvent decode(List<String> names, SpanEvents.Header header, ByteBuffer record) {
    if (record.remaining() < SafepointStructs.SAFEPOINT_EVENT.size()) {
      return null;
    }
    long sync = record.getLong(SafepointStructs.SAFEPOINT_EVENT.offset("sync_ns"));
    return new SafepointEvent(operationName(names, record.getInt(SafepointStructs.SAFEPOINT_EVENT.offset("op"))),
        sync > 0 ? sync : -1, header.startNanos(), header.endNanos(), header.tid());
  }
}
