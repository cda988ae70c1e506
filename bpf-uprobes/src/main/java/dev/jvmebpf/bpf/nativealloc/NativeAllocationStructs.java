package dev.jvmebpf.bpf.nativealloc;

import dev.jvmebpf.bpf.btf.StructLayout;
import dev.jvmebpf.bpf.hist.HistStructs;
import java.util.List;

/** Java mirror of nativealloc.h, checked against nativealloc.bpf.o's BTF by KernelLayoutTest. */
public final class NativeAllocationStructs {

  /** enum native_allocator, in order: the names exported as the allocator attribute. */
  public static final List<String> ALLOCATOR_ENUM = List.of("NATIVE_ALLOCATOR_MALLOC", "NATIVE_ALLOCATOR_MMAP");
  public static final List<String> ALLOCATORS = List.of("malloc", "mmap");

  /** enum native_probe, in order, and the programs it counts. */
  public static final List<String> PROBE_ENUM = List.of("NATIVE_PROBE_MALLOC", "NATIVE_PROBE_MALLOC_RETURN",
      "NATIVE_PROBE_CALLOC", "NATIVE_PROBE_CALLOC_RETURN", "NATIVE_PROBE_REALLOC", "NATIVE_PROBE_REALLOC_RETURN",
      "NATIVE_PROBE_POSIX_MEMALIGN", "NATIVE_PROBE_POSIX_MEMALIGN_RETURN", "NATIVE_PROBE_FREE", "NATIVE_PROBE_MMAP",
      "NATIVE_PROBE_MMAP_RETURN", "NATIVE_PROBE_MUNMAP");
  public static final List<String> PROGRAMS = List.of("uprobe_malloc", "uretprobe_malloc", "uprobe_calloc",
      "uretprobe_calloc", "uprobe_realloc", "uretprobe_realloc", "uprobe_posix_memalign",
      "uretprobe_posix_memalign", "uprobe_free", "uprobe_mmap", "uretprobe_mmap", "uprobe_munmap");

  public static final StructLayout NATIVE_CONFIG = StructLayout.struct("native_config")
      .struct("process", HistStructs.PROCESS_FILTER)
      .struct("size_bytes", HistStructs.HIST_LAYOUT)
      .build();

  public static final StructLayout NATIVE_BLOCK = StructLayout.struct("native_block")
      .u64("size")
      .u32("allocator")
      .u32("pad")
      .build();

  public static final StructLayout NATIVE_OUTSTANDING = StructLayout.struct("native_outstanding")
      .s64("bytes")
      .s64("blocks")
      .build();

  private NativeAllocationStructs() {}
}
