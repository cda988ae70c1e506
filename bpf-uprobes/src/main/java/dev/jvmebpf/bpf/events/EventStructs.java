package dev.jvmebpf.bpf.events;

import dev.jvmebpf.bpf.btf.StructLayout;

/** Java mirror of events.h, checked against the objects' BTF by KernelLayoutTest. */
public final class EventStructs {

  /** SPANS_OFF: a span threshold meaning "no spans". */
  public static final long SPANS_OFF = -1L;

  /** enum event_source. */
  public static final int SOURCE_GC = 1;
  public static final int SOURCE_SAFEPOINT = 2;
  public static final int SOURCE_SOCKET = 3;
  public static final int SOURCE_DNS = 4;

  public static final StructLayout EVENT_HEADER = StructLayout.struct("event_header")
      .u64("start_ns")
      .u64("end_ns")
      .u32("tid")
      .u16("source")
      .u16("kind")
      .build();

  private EventStructs() {}
}
