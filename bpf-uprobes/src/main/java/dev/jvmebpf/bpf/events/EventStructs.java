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

  /** The name of the thread-local pointer to an OTEP 4947 thread context record. */
  public static final String THREAD_CTX_SYMBOL = "otel_thread_ctx_v1";

  public static final StructLayout THREAD_CTX_LOCATION = StructLayout.struct("thread_ctx_location")
      .u64("module")
      .u64("offset")
      .u64("tp_offset")
      .build();

  public static final StructLayout SPAN_PARENT = StructLayout.struct("span_parent")
      .u8Array("trace_id", 16)
      .u8Array("span_id", 8)
      .u8("trace_flags")
      .u8("valid")
      .u8Array("pad", 6)
      .build();

  public static final StructLayout EVENT_HEADER = StructLayout.struct("event_header")
      .u64("start_ns")
      .u64("end_ns")
      .u32("tid")
      .u16("source")
      .u16("kind")
      .struct("parent", SPAN_PARENT)
      .build();

  private EventStructs() {}
}
