package dev.jvmebpf.bpf.libbpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;

/**
 * A BPF ring buffer (BPF_MAP_TYPE_RINGBUF) created by Java, which BPF objects share through
 * {@link BpfObject#reuseMap}, with its reader. One thread reads: it {@link #await waits} for
 * records and {@link #consume consumes} them, each handed to the consumer as a little-endian
 * heap buffer over the record's own copy (its {@code array()} is exactly the record). {@link #wake} (any thread) ends a wait at once. Close it from
 * the reading thread, or after that thread ended.
 */
public final class RingBuffer implements AutoCloseable {

  private final Libbpf libbpf;
  private final int bytes;
  private final int mapFd;
  private final int wakeFd;
  private long reader; // set once, right after the native reader is made
  private Consumer<ByteBuffer> consumer;
  private boolean closed;
  private long failed;

  private RingBuffer(Libbpf libbpf, int bytes, int mapFd, int wakeFd) {
    this.libbpf = libbpf;
    this.bytes = bytes;
    this.mapFd = mapFd;
    this.wakeFd = wakeFd;
  }

  /** A new ring of {@code bytes} (a power of two, at least 4096). */
  public static RingBuffer create(Libbpf libbpf, int bytes) throws BpfException {
    if (bytes < 4096 || Integer.bitCount(bytes) != 1) {
      throw new IllegalArgumentException("a ring buffer's size is a power of two of at least 4096 bytes: " + bytes);
    }
    int fd = LibbpfNative.ringCreate(bytes);
    if (fd < 0) {
      throw libbpf.error("create the span ring buffer (" + bytes + " bytes)", fd);
    }
    int wake = LibbpfNative.eventfd();
    if (wake < 0) {
      LibbpfNative.close(fd);
      throw libbpf.error("create an eventfd", wake);
    }
    RingBuffer ring = new RingBuffer(libbpf, bytes, fd, wake);
    long reader = LibbpfNative.ringOpen(fd, ring);
    if (reader <= 0) {
      LibbpfNative.close(wake);
      LibbpfNative.close(fd);
      throw libbpf.error("read the span ring buffer", (int) (reader == 0 ? -Errno.EINVAL : reader));
    }
    ring.reader = reader;
    return ring;
  }

  /** The map's descriptor, for {@link BpfObject#reuseMap}. */
  public int fd() {
    return mapFd;
  }

  public int bytes() {
    return bytes;
  }

  /**
   * Waits at most {@code timeoutMillis} (negative: without limit) for records or a {@link #wake};
   * true when records are there.
   */
  public boolean await(int timeoutMillis) throws BpfException {
    int rc = LibbpfNative.ringWait(reader, wakeFd, timeoutMillis);
    if (rc < 0) {
      throw libbpf.error("wait for the span ring buffer", rc);
    }
    return (rc & 1) != 0;
  }

  /** Ends the reader's current or next {@link #await}; any thread. */
  public void wake() {
    LibbpfNative.eventfdSignal(wakeFd);
  }

  /** Hands every record there now to {@code to}, in order; the number of records. */
  public synchronized int consume(Consumer<ByteBuffer> to) throws BpfException {
    if (closed) {
      return 0;
    }
    consumer = to;
    try {
      int rc = LibbpfNative.ringConsume(reader);
      if (rc < 0) {
        throw libbpf.error("read the span ring buffer", rc);
      }
      return rc;
    } finally {
      consumer = null;
    }
  }

  /** Records the consumer threw on (counted, skipped: nothing may unwind through libbpf). */
  public synchronized long failed() {
    return failed;
  }

  /** Called by the native reader, inside {@link #consume}, with a copy of one record. */
  @SuppressWarnings("unused")
  private int deliver(byte[] record) {
    try {
      consumer.accept(ByteBuffer.wrap(record).order(ByteOrder.LITTLE_ENDIAN));
    } catch (Throwable e) {
      failed++;
    }
    return 0;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    LibbpfNative.ringFree(reader);
    LibbpfNative.close(wakeFd);
    LibbpfNative.close(mapFd);
  }
}
