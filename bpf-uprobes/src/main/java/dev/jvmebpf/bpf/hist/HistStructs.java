package dev.jvmebpf.bpf.hist;

import dev.jvmebpf.bpf.btf.StructLayout;

/** Java mirror of the records in hist.h, checked against BTF by KernelLayoutTest. */
public final class HistStructs {

  public static final StructLayout HIST_LAYOUT = StructLayout.struct("hist_layout")
      .u64Array("upper", HistogramLayout.LAYOUT_ENTRIES)
      .u32("bucket_count")
      .s32("first_index")
      .s32("scale")
      .u32("pad")
      .build();

  public static final StructLayout HIST = StructLayout.struct("hist")
      .u64("sum")
      .u64("min")
      .u64("max")
      .u64("zero_count")
      .u64Array("buckets", HistogramLayout.MAX_BUCKETS)
      .build();

  public static final StructLayout PROBE_STATS = StructLayout.struct("probe_stats")
      .u64("events")
      .u64("dropped")
      .u64("errors")
      .u64("overflow")
      .u64("spans")
      .build();

  public static final StructLayout PROCESS_FILTER = StructLayout.struct("process_filter")
      .u64("pidns_dev")
      .u64("pidns_ino")
      .u32("tgid")
      .u32("pad")
      .build();

  private HistStructs() {}
}
