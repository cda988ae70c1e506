package dev.jvmebpf.bpf.events;

import java.nio.ByteBuffer;

/**
 * The application span that was current on an event's thread, from its OpenTelemetry thread
 * context record (OTEP 4947, see events.h): W3C trace context ids in lower-case hex.
 *
 * @param traceId 32 hex digits, never all zeros
 * @param spanId 16 hex digits, never all zeros
 * @param traceFlags the W3C trace-flags byte (bit 0: sampled)
 */
public record SpanParent(String traceId, String spanId, int traceFlags) {

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /** The struct span_parent at {@code offset} of a record; null when it holds no valid context. */
  public static SpanParent read(ByteBuffer record, int offset) {
    StructLayoutView p = new StructLayoutView(record, offset);
    if (p.u8("valid") != 1) {
      return null;
    }
    String trace = p.hex("trace_id");
    String span = p.hex("span_id");
    if (trace == null || span == null) {
      return null; // the OTEP: zeros mean none; both or neither
    }
    return new SpanParent(trace, span, p.u8("trace_flags"));
  }

  private record StructLayoutView(ByteBuffer record, int offset) {

    int u8(String member) {
      return Byte.toUnsignedInt(record.get(offset + EventStructs.SPAN_PARENT.offset(member)));
    }

    /** The member's bytes as hex; null when they are all zero. */
    String hex(String member) {
      int at = offset + EventStructs.SPAN_PARENT.offset(member);
      return SpanParent.hex(record, at, EventStructs.SPAN_PARENT.member(member).size());
    }
  }

  /** {@code length} bytes at {@code at} as lower-case hex; null when they are all zero (the OTEP's none). */
  static String hex(ByteBuffer record, int at, int length) {
    char[] out = new char[2 * length];
    boolean any = false;
    for (int i = 0; i < length; i++) {
      int b = Byte.toUnsignedInt(record.get(at + i));
      any |= b != 0;
      out[2 * i] = HEX[b >> 4];
      out[2 * i + 1] = HEX[b & 0xf];
    }
    return any ? new String(out) : null;
  }
}
