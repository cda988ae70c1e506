package dev.jvmebpf.bpf.nativealloc;

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
import dev.jvmebpf.bpf.libc.LibcHooks;
import dev.jvmebpf.bpf.libc.ProbePlacement;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The native allocation probe family (opt-in): uprobes, for our pid only, on our libc's
 * allocation functions (see nativealloc.h). Each call costs a uprobe and a uretprobe; the README
 * states the measured price.
 */
public final class NativeAllocationProbes extends ProbeFamily<NativeAllocationSnapshot> {

  static final String OBJECT = "nativealloc";
  /** Blocks tracked at once by default; beyond, allocations are counted as dropped. */
  public static final int DEFAULT_LIVE_BLOCKS = 1 << 20;

  private static final List<LibcHooks.Hook> HOOKS = List.of(
      new LibcHooks.Hook("malloc", "uprobe_malloc", "uretprobe_malloc"),
      new LibcHooks.Hook("calloc", "uprobe_calloc", "uretprobe_calloc"),
      new LibcHooks.Hook("realloc", "uprobe_realloc", "uretprobe_realloc"),
      new LibcHooks.Hook("posix_memalign", "uprobe_posix_memalign", "uretprobe_posix_memalign"),
      new LibcHooks.Hook("free", "uprobe_free", null),
      new LibcHooks.Hook("mmap", "uprobe_mmap", "uretprobe_mmap"),
      new LibcHooks.Hook("munmap", "uprobe_munmap", null));
  /** The libc functions this family probes. */
  public static final List<String> FUNCTIONS = functions(HOOKS);
  public static final ProbeRequirements NEEDS = ProbeRequirements.libc(FUNCTIONS);

  /** The hooks' functions (a loop: this class is initialized at every start, on or off, and a stream spins lambdas). */
  private static List<String> functions(List<LibcHooks.Hook> hooks) {
    List<String> out = new java.util.ArrayList<>(hooks.size());
    for (LibcHooks.Hook hook : hooks) {
      out.add(hook.function());
    }
    return List.copyOf(out);
  }

  private final HistogramLayout layout;
  private final BpfMap sizes;
  private final BpfMap outstanding;

  private NativeAllocationProbes(BpfObject object, HistogramLayout layout, List<ProbePlacement> placements)
      throws BpfException {
    super(object, NativeAllocationStructs.PROGRAMS, List.of(), placements);
    this.layout = layout;
    this.sizes = object.map("native_size");
    this.outstanding = object.map("native_outstanding");
  }

  /**
   * Loads the native allocation program and attaches it to our libc.
   *
   * @param layout histogram layout for sizes in bytes
   * @param liveBlocks at most this many blocks are tracked at once
   * @param atEntry probe every function at its entry instead of where decoding our libc finds an
   *     emulated instruction (see {@link ProbePlacement}); for comparisons
   */
  public static NativeAllocationProbes attach(Libbpf libbpf, JvmProcess jvm, HistogramLayout layout, int liveBlocks,
      boolean atEntry) throws BpfException {
    LibcHooks.requireLibc(jvm, "native allocation");
    FamilyConfig config = FamilyConfig.of(NativeAllocationStructs.NATIVE_CONFIG, jvm).histogram("size_bytes", layout)
        .mapSize("native_live", liveBlocks);
    return open(libbpf, OBJECT, config, object -> new NativeAllocationProbes(object, layout,
        LibcHooks.loadAndAttachEvery(object, jvm, HOOKS, atEntry, "native allocation")));
  }

  @Override
  protected NativeAllocationSnapshot read() throws BpfException {
    List<NativeAllocationSnapshot.AllocatorUsage> out = new ArrayList<>();
    byte[] value = outstanding.newValue();
    for (int i = 0; i < NativeAllocationStructs.ALLOCATORS.size(); i++) {
      HistogramSnapshot h = HistogramMaps.read(sizes, i, layout).orElse(HistogramSnapshot.empty(layout));
      long bytes = 0;
      long blocks = 0;
      if (outstanding.lookup(HistogramMaps.key(i), value)) {
        ByteBuffer in = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        for (int cpu = 0; cpu < outstanding.copies(); cpu++) {
          int at = cpu * outstanding.valueStride();
          bytes += in.getLong(at + NativeAllocationStructs.NATIVE_OUTSTANDING.offset("bytes"));
          blocks += in.getLong(at + NativeAllocationStructs.NATIVE_OUTSTANDING.offset("blocks"));
        }
      }
      out.add(new NativeAllocationSnapshot.AllocatorUsage(NativeAllocationStructs.ALLOCATORS.get(i), h, bytes, blocks));
    }
    return new NativeAllocationSnapshot(out, probeStats());
  }
}
