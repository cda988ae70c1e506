package dev.jvmebpf.bpf.heapalloc;

import dev.jvmebpf.bpf.btf.StructLayout;
import dev.jvmebpf.bpf.hist.HistStructs;
import java.util.List;

/** Java mirror of heapalloc.h, checked against heapalloc.bpf.o's BTF by KernelLayoutTest. */
public final class AllocationStructs {

  public static final long OTHER_KLASS = 0;
  public static final int OTHER_THREAD = 0;

  /** enum alloc_probe, in order, and the programs it counts. */
  public static final List<String> PROBE_ENUM = List.of("ALLOC_PROBE_NEW_TLAB", "ALLOC_PROBE_OUTSIDE_TLAB");
  public static final List<String> PROGRAMS = List.of("uprobe_alloc_new_tlab", "uprobe_alloc_outside_tlab");

  public static final StructLayout ALLOC_CONFIG = StructLayout.struct("alloc_config")
      .struct("process", HistStructs.PROCESS_FILTER)
      .struct("size_bytes", HistStructs.HIST_LAYOUT)
      .build();

  public static final StructLayout ALLOC_THREAD = StructLayout.struct("alloc_thread")
      .u64("tlab_bytes")
      .u64("outside_bytes")
      .u64("java_thread")
      .chars("comm", 16)
      .build();

  public static final StructLayout ALLOC_CLASS = StructLayout.struct("alloc_class")
      .u64("tlab_bytes")
      .u64("outside_bytes")
      .u64("tlab_count")
      .u64("outside_count")
      .build();

  private AllocationStructs() {}
}
