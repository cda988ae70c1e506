package dev.jvmebpf.bpf.safepoint;

import dev.jvmebpf.bpf.btf.StructLayout;
import dev.jvmebpf.bpf.hist.HistStructs;
import java.util.List;

/** Java mirror of safepoint.h, checked against safepoint.bpf.o's BTF by KernelLayoutTest. */
public final class SafepointStructs {

  public static final int OTHER_OP = 0;

  /** enum safepoint_probe, in order, and the programs it counts. */
  public static final List<String> PROBE_ENUM = List.of("SAFEPOINT_PROBE_BEGIN", "SAFEPOINT_PROBE_END");
  public static final List<String> PROGRAMS = List.of("usdt_safepoint_begin", "usdt_safepoint_end");

  public static final StructLayout SAFEPOINT_CONFIG = StructLayout.struct("safepoint_config")
      .struct("process", HistStructs.PROCESS_FILTER)
      .u64("current_type_addr")
      .u64("begin_time_addr")
      .u64("sync_time_addr")
      .u32("op_id_limit")
      .u32("pad")
      .u64("span_min_ns")
      .struct("duration_ns", HistStructs.HIST_LAYOUT)
      .build();

  public static final StructLayout SAFEPOINT_EVENT = StructLayout.struct("safepoint_event")
      .struct("header", dev.jvmebpf.bpf.events.EventStructs.EVENT_HEADER)
      .u32("op")
      .u32("pad")
      .u64("sync_ns")
      .build();

  private SafepointStructs() {}
}
