package dev.jvmebpf.bpf.gc;

import dev.jvmebpf.bpf.btf.StructLayout;
import dev.jvmebpf.bpf.events.EventStructs;
import dev.jvmebpf.bpf.hist.HistStructs;
import java.util.List;

/** Java mirror of gc.h, checked against gc.bpf.o's BTF by KernelLayoutTest. */
public final class GcStructs {

  /** GC_NAME_LEN. */
  public static final int NAME_LENGTH = 48;
  /** GC_MAX_IDS: manager and pool names together, `other` included. */
  public static final int MAX_IDS = 64;
  public static final int OTHER_ID = 0;

  /** enum gc_probe, in order: the C enumerator and the program it counts. */
  public static final List<String> PROBE_ENUM = List.of(
      "GC_PROBE_GC_BEGIN", "GC_PROBE_GC_END", "GC_PROBE_POOL_BEGIN", "GC_PROBE_POOL_END");
  public static final List<String> PROGRAMS = List.of(
      "usdt_gc_begin", "usdt_gc_end", "usdt_mem_pool_gc_begin", "usdt_mem_pool_gc_end");

  public static final StructLayout GC_NAME = StructLayout.struct("gc_name")
      .chars("text", NAME_LENGTH)
      .build();

  public static final StructLayout GC_CONFIG = StructLayout.struct("gc_config")
      .struct("process", HistStructs.PROCESS_FILTER)
      .u32Array("pause_manager", 2)
      .u32("minor_cycle_manager")
      .u32("major_cycle_manager")
      .u32("pool_count")
      .u32("pad")
      .u64("span_min_ns")
      .struct("duration_ns", HistStructs.HIST_LAYOUT)
      .build();

  /** enum gc_event_kind. */
  public static final int EVENT_COLLECTION = 1;
  public static final int EVENT_PAUSE = 2;

  public static final StructLayout GC_EVENT = StructLayout.struct("gc_event")
      .struct("header", EventStructs.EVENT_HEADER)
      .u32("manager")
      .u32("pad")
      .build();

  public static final StructLayout GC_POOL_KEY = StructLayout.struct("gc_pool_key")
      .u32("manager")
      .u32("pool")
      .build();

  public static final StructLayout GC_POOL_USAGE = StructLayout.struct("gc_pool_usage")
      .u64("used_bytes")
      .u64("committed_bytes")
      .u64("time_ns")
      .u64("collections")
      .build();

  private GcStructs() {}
}
