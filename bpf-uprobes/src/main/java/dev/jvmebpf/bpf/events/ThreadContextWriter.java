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
 * <p>Virtual threads: the pointer belongs to the OS thread, for a virtual thread its carrier,
 * which other virtual threads mount in turn. By default they publish nothing (their calls have no
 * parent rather than a wrong one). Once {@link #publishVirtualThreads} was called, whoever called
 * it keeps each carrier's record in step with the virtual thread mounted on it (the agent, from
 * VirtualThread's mount and unmount): a virtual thread's publication goes into a record image of its
 * own, on the heap, and into its carrier's record; {@code records} must then be a thread-local
 * whose value belongs to the OS thread (the JDK's carrier thread-local).
 */
public final class ThreadContextWriter {

  /** The record: the OTEP's 28-byte lead-in, no attributes; 32 bytes keep it 8-byte aligned. */
  public static final int RECORD_BYTES = 32;
  public static final int TRACE_ID = 0;
  public static final int SPAN_ID = 16;
  public static final int VALID = 24;
  public static final int TRACE_FLAGS = 25;
  static final int ATTRS_DATA_SIZE = 26;
  /** The record's fixed part: ids, valid, flags, attributes' size. */
  static final int RECORD_HEADER_BYTES = 28;

  private static final MethodHandle IS_VIRTUAL = isVirtualHandle();

  /** Every bound record, by its thread: alive as long as the thread (whose pointer holds it). */
  private static final Map<Thread, ByteBuffer> BOUND = Collections.synchronizedMap(new WeakHashMap<>());

  private final Libbpf libbpf;
  /** Each OS thread's record (bound to its pointer). */
  private final ThreadLocal<ByteBuffer> records;
  /** Each virtual thread's own context (a record image on the heap); null: they publish nothing. */
  private volatile ThreadLocal<ByteBuffer> shadows;

  public ThreadContextWriter(Libbpf libbpf) {
    this(libbpf, new ThreadLocal<>());
  }

  /**
   * A writer keeping each OS thread's record in {@code records}: a plain thread-local, or one whose
   * value belongs to the carrier when a virtual thread reads it (for {@link #publishVirtualThreads}).
   */
  public ThreadContextWriter(Libbpf libbpf, ThreadLocal<ByteBuffer> records) {
    this.libbpf = libbpf;
    this.records = records;
  }

  /**
   * From now on virtual threads publish too, into {@code shadows} (each one's record image) and
   * their carrier's record, if it has one (bound by {@link #bindCurrentThread} on the carrier). The
   * caller must have made mounts and unmounts keep the carriers' records in step.
   */
  public void publishVirtualThreads(ThreadLocal<ByteBuffer> shadows) {
    this.shadows = shadows;
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
    if (isVirtual(Thread.currentThread())) {
      publishVirtual(traceId, spanId, traceFlags);
      return;
    }
    ByteBuffer record = record();
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
    if (shadows == null && isVirtual(Thread.currentThread())) {
      return null;
    }
    ByteBuffer record = records.get(); // a virtual thread's: its carrier's, showing the mounted one's context
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
    if (isVirtual(Thread.currentThread())) {
      ThreadLocal<ByteBuffer> own = shadows;
      ByteBuffer shadow = own == null ? null : own.get();
      if (shadow == null) {
        return; // never published: its carrier's record shows nothing of it
      }
      shadow.put(VALID, (byte) 0);
    }
    ByteBuffer record = records.get();
    if (record != null) {
      record.put(VALID, (byte) 0);
    }
  }

  /**
   * Binds a record to the calling platform thread now if it has none (a carrier before its first
   * mount: virtual threads never bind, since one could move to another carrier during the call).
   */
  public void bindCurrentThread() {
    if (!isVirtual(Thread.currentThread())) {
      record();
    }
  }

  /** A virtual thread's publication: its own image, then its carrier's record (bound or not yet). */
  private void publishVirtual(CharSequence traceId, CharSequence spanId, int traceFlags) {
    ThreadLocal<ByteBuffer> own = shadows;
    if (own == null) {
      return;
    }
    ByteBuffer shadow = own.get();
    if (shadow == null) {
      shadow = ByteBuffer.allocate(RECORD_BYTES).order(ByteOrder.nativeOrder());
      own.set(shadow);
    }
    putHex(shadow, TRACE_ID, traceId, 16);
    putHex(shadow, SPAN_ID, spanId, 8);
    shadow.put(TRACE_FLAGS, (byte) traceFlags);
    shadow.put(VALID, (byte) 1);
    ByteBuffer record = records.get(); // the carrier's: no blocking call before the copy, so no move
    if (record != null) {
      copy(shadow, record);
    }
  }

  /**
   * A valid record image into a live record, by the OTEP's protocol (valid cleared first, set
   * last); the mount hook in java.base does the same.
   */
  static void copy(ByteBuffer from, ByteBuffer to) {
    to.put(VALID, (byte) 0);
    VarHandle.storeStoreFence();
    to.putLong(TRACE_ID, from.getLong(TRACE_ID));
    to.putLong(TRACE_ID + 8, from.getLong(TRACE_ID + 8));
    to.putLong(SPAN_ID, from.getLong(SPAN_ID));
    to.put(TRACE_FLAGS, from.get(TRACE_FLAGS));
    VarHandle.storeStoreFence();
    to.put(VALID, (byte) 1);
  }

  /** The calling platform thread's record, created and bound to its pointer on first use; null: no library. */
  private ByteBuffer record() {
    ByteBuffer record = records.get();
    if (record != null) {
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
