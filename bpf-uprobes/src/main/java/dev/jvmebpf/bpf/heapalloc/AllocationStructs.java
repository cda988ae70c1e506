package dev.jvmebpf.bpf.heapalloc;

import dev.jvmebpf.bpf.btf.StructLayout;
import dev.jvmebpf.bpf.hist.HistStructs;
import java.util.List;

/** Java mirror of heapalloc.h, checked against heapalloc.bpf.o's BTF by KernelLayoutTest. */
public final class AllocationStructs {

  public static final long OTHER_KLASS = 0;
  /** ALLOC_THREAD_NAME_LEN: a thread name key's bytes (at most one less of them count). */
  public static final int THREAD_NAME_LEN = 64;

  /** enum alloc_probe, in order, and the programs it counts. */
  public static final List<String> PROBE_ENUM = List.of("ALLOC_PROBE_NEW_TLAB", "ALLOC_PROBE_OUTSIDE_TLAB",
      "ALLOC_PROBE_THREAD_START", "ALLOC_PROBE_THREAD_STOP");
  public static final List<String> PROGRAMS = List.of("uprobe_alloc_new_tlab", "uprobe_alloc_outside_tlab",
      "usdt_thread_start", "usdt_thread_stop");

  public static final StructLayout ALLOC_CONFIG = StructLayout.struct("alloc_config")
      .struct("process", HistStructs.PROCESS_FILTER)
      .struct("size_bytes", HistStructs.HIST_LAYOUT)
      .u64("allocated_bytes_offset")
      .u64("tlab_start_offset")
      .u64("tlab_top_offset")
      .build();

  public static final StructLayout ALLOC_THREAD = StructLayout.struct("alloc_thread")
      .u64("base_bytes")
      .u64("seen_bytes")
      .u64("java_thread")
      .u64("tlab_klass")
      .chars("comm", 16)
      .build();

  public static final StructLayout ALLOC_THREAD_NAME = StructLayout.struct("alloc_thread_name")
      .chars("text", THREAD_NAME_LEN)
      .build();

  public static final StructLayout ALLOC_ENDED = StructLayout.struct("alloc_ended")
      .u64("bytes")
      .u64("threads")
      .build();

  public static final StructLayout ALLOC_CLASS = StructLayout.struct("alloc_class")
      .u64("tlab_bytes")
      .u64("outside_bytes")
      .u64("tlab_count")
      .u64("outside_count")
      .build();

  private AllocationStructs() {}
}
