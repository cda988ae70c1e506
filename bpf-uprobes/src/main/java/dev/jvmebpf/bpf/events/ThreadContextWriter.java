package dev.jvmebpf.bpf.events;

import dev.jvmebpf.bpf.libbpf.Libbpf;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Our writer of OpenTelemetry Thread Context (OTEP 4947): publishes the current span of a thread
 * into a record the bundled library's {@code otel_thread_ctx_v1} points at, for our probes and any
 * other reader of the process (a profiler). Each platform thread gets a record of its own (native
 * memory, held by a thread-local) and binds the pointer to it on its first publication, the only
 * call into C; from then on each change writes the record in place with the OTEP's protocol
 * ({@code valid} cleared, ids written, {@code valid} set; compiler-level fences only, since the
 * reader reads the thread's record while that thread is stopped).
 *
 * <p>A record stays allocated as long as its thread lives, also after {@link #close} (which marks
 * them all invalid): the thread's pointer keeps pointing at it, and a reader (a profiler) must
 * never find freed memory there.
 *
 * <p>Virtual threads publish nothing: the pointer belongs to the carrier thread, which other
 * virtual threads mount in turn, so a record bound there would show a stale context. Their calls
 * have no parent instead of a wrong one.
 */
public final class ThreadContextWriter {

  /** The record: the OTEP's 28-byte lead-in, no attributes; 32 bytes keep it 8-byte aligned. */
  static final int RECORD_BYTES = 32;
  static final int TRACE_ID = 0;
  static final int SPAN_ID = 16;
  static final int VALID = 24;
  static final int TRACE_FLAGS = 25;
  static final int ATTRS_DATA_SIZE = 26;
  /** The record's fixed part: ids, valid, flags, attributes' size. */
  static final int RECORD_HEADER_BYTES = 28;

  private static final MethodHandle IS_VIRTUAL = isVirtualHandle();

  /** Every bound record, by its thread: alive as long as the thread (whose pointer holds it). */
  private static final Map<Thread, ByteBuffer> BOUND = Collections.synchronizedMap(new WeakHashMap<>());

  private final Libbpf libbpf;
  private final ThreadLocal<ByteBuffer> records = new ThreadLocal<>();

  public ThreadContextWriter(Libbpf libbpf) {
    this.libbpf = libbpf;
  }

  /** Whether our writer's library loaded (else publishing does nothing). */
  public boolean available() {
    return libbpf.threadContextLibrary() != null;
  }

  /**
   * The calling thread's current span is {@code traceId}/{@code spanId} (lower-case hex, 32 and
   * 16 digits, as OpenTelemetry's SpanContext gives them) with W3C {@code traceFlags}.
   */
  public void publish(CharSequence traceId, CharSequence spanId, int traceFlags) {
    ByteBuffer record = record(true);
    if (record == null) {
      return;
    }
    record.put(VALID, (byte) 0);
    VarHandle.storeStoreFence();
    putHex(record, TRACE_ID, traceId, 16);
    putHex(record, SPAN_ID, spanId, 8);
    record.put(TRACE_FLAGS, (byte) traceFlags);
    VarHandle.storeStoreFence();
    record.put(VALID, (byte) 1);
  }

  /**
   * What this writer last published for the calling thread, as a reader of its record would see
   * it; null when nothing valid is (or another writer publishes: ours then stays silent).
   */
  public SpanParent current() {
    ByteBuffer record = records.get();
    return record == null ? null : parent(record);
  }

  /**
   * The span an OTEP 4947 record (ours or another writer's, its first {@link #RECORD_HEADER_BYTES}
   * at least) holds; null when it holds none (not valid, or zero ids).
   */
  static SpanParent parent(ByteBuffer record) {
    if (record.get(VALID) != 1) {
      return null;
    }
    String trace = SpanParent.hex(record, TRACE_ID, 16);
    String span = SpanParent.hex(record, SPAN_ID, 8);
    return trace == null || span == null ? null : new SpanParent(trace, span, Byte.toUnsignedInt(record.get(TRACE_FLAGS)));
  }

  /** The calling thread has no current span. */
  public void clear() {
    ByteBuffer record = record(false);
    if (record != null) {
      record.put(VALID, (byte) 0);
    }
  }

  private ByteBuffer record(boolean create) {
    ByteBuffer record = records.get();
    if (record != null || !create || isVirtual(Thread.currentThread())) {
      return record;
    }
    record = ByteBuffer.allocateDirect(RECORD_BYTES).order(ByteOrder.nativeOrder());
    record.putShort(ATTRS_DATA_SIZE, (short) 0);
    if (!libbpf.bindThreadContext(record)) {
      return null; // our writer's library did not load (available() says so)
    }
    BOUND.put(Thread.currentThread(), record);
    records.set(record);
    return record;
  }

  /**
   * Stops publishing: every thread's record is marked invalid (readers then see no context) and
   * left bound to its thread. Call once nothing publishes any more.
   */
  public void close() {
    synchronized (BOUND) {
      for (ByteBuffer record : BOUND.values()) {
        record.put(VALID, (byte) 0);
      }
    }
  }

  /** 2 * bytes hex digits at {@code hex} as bytes into the record at {@code at}. */
  private static void putHex(ByteBuffer record, int at, CharSequence hex, int bytes) {
    for (int i = 0; i < bytes; i++) {
      record.put(at + i, (byte) (digit(hex.charAt(2 * i)) << 4 | digit(hex.charAt(2 * i + 1))));
    }
  }

  private static int digit(char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
  }

  private static boolean isVirtual(Thread thread) {
    if (IS_VIRTUAL == null) {
      return false; // JDK 17-20: no virtual threads
    }
    try {
      return (boolean) IS_VIRTUAL.invokeExact(thread);
    } catch (Throwable e) {
      return true; // unknown: publish nothing rather than something wrong
    }
  }

  private static MethodHandle isVirtualHandle() {
    try {
      return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
    } catch (ReflectiveOperationException e) {
      return null;
    }
  }
}
