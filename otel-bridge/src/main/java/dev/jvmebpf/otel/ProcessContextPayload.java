package dev.jvmebpf.otel;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.resources.Resource;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The payload of the OpenTelemetry process context (OTEP 4719): the protobuf encoding of
 * {@code opentelemetry.proto.processcontext.v1development.ProcessContext}, that is the resource
 * (field 1) and extra attributes (field 2, where OTEP 4947 puts its {@code threadlocal.*} keys).
 * Written here, a few dozen lines, rather than through a protobuf library the agent would carry.
 */
public final class ProcessContextPayload {

  /** OTEP 4947's name for the thread record format that {@code otel_thread_ctx_v1} points to. */
  public static final AttributeKey<String> THREADLOCAL_SCHEMA = AttributeKey.stringKey("threadlocal.schema_version");
  /** OTEP 4947's map from attribute key indexes of thread records to names. */
  public static final AttributeKey<List<String>> THREADLOCAL_KEYS =
      AttributeKey.stringArrayKey("threadlocal.attribute_key_map");
  /** The schema of our records: the merged OTEP's (its drafts said "tlsdesc_v1_dev"). */
  public static final String THREAD_RECORDS_V1 = "tls_v1";

  private ProcessContextPayload() {}

  /** The encoded ProcessContext of {@code resource} with {@code extra} as its extra attributes. */
  public static byte[] encode(Resource resource, Attributes extra) {
    Message context = new Message();
    Message res = new Message();
    keyValues(res, 1, resource.getAttributes());
    context.message(1, res);
    keyValues(context, 2, extra);
    return context.bytes();
  }

  private static void keyValues(Message into, int field, Attributes attributes) {
    for (Map.Entry<AttributeKey<?>, Object> e : attributes.asMap().entrySet()) {
      Message kv = new Message();
      kv.string(1, e.getKey().getKey());
      kv.message(2, anyValue(e.getValue()));
      into.message(field, kv);
    }
  }

  /** An AnyValue: string 1, bool 2, int 3, double 4, array 5 (ArrayValue: repeated AnyValue 1). */
  private static Message anyValue(Object value) {
    Message v = new Message();
    if (value instanceof String s) {
      v.string(1, s);
    } else if (value instanceof Boolean b) {
      v.varint(2, b ? 1 : 0);
    } else if (value instanceof Long l) {
      v.varint(3, l);
    } else if (value instanceof Double d) {
      v.fixed64(4, Double.doubleToRawLongBits(d));
    } else if (value instanceof List<?> list) {
      Message array = new Message();
      for (Object element : list) {
        array.message(1, anyValue(element));
      }
      v.message(5, array); // even when empty: the value is an array
    } else {
      v.string(1, String.valueOf(value));
    }
    return v;
  }

  /** Fields of one message, in the order written. */
  private static final class Message {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    void string(int field, String s) {
      bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    void message(int field, Message m) {
      bytes(field, m.bytes());
    }

    void bytes(int field, byte[] b) {
      raw((long) field << 3 | 2);
      raw(b.length);
      out.write(b, 0, b.length);
    }

    void varint(int field, long v) {
      raw((long) field << 3);
      raw(v);
    }

    void fixed64(int field, long bits) {
      raw((long) field << 3 | 1);
      for (int i = 0; i < 8; i++) {
        out.write((int) (bits >>> (8 * i)));
      }
    }

    private void raw(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }
}
