package dev.jvmebpf.bpf.events;

import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.libbpf.RingBuffer;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The one span ring buffer that every family's object shares (events.h), and the decoding of its
 * records by {@code source}: each family registers the decoder of its own records when it
 * attaches. One thread reads ({@link #await}, {@link #read}); see {@link RingBuffer}.
 */
public final class SpanEvents implements AutoCloseable {

  /** The ring's default size: about 8,000 GC records, or 1,000 slow socket calls with their peers. */
  public static final int DEFAULT_BYTES = 256 * 1024;

  /** The start of every record. */
  public record Header(long startNanos, long endNanos, int tid, int source, int kind) {

    static Header read(ByteBuffer record) {
      return new Header(record.getLong(EventStructs.EVENT_HEADER.offset("start_ns")),
          record.getLong(EventStructs.EVENT_HEADER.offset("end_ns")),
          record.getInt(EventStructs.EVENT_HEADER.offset("tid")),
          Short.toUnsignedInt(record.getShort(EventStructs.EVENT_HEADER.offset("source"))),
          Short.toUnsignedInt(record.getShort(EventStructs.EVENT_HEADER.offset("kind"))));
    }
  }

  /** A family's reading of its records; null for a record it does not know. */
  @FunctionalInterface
  public interface Decoder {
    KernelEvent decode(Header header, ByteBuffer record);
  }

  private final RingBuffer ring;
  private final Map<Integer, Decoder> decoders = new ConcurrentHashMap<>();
  private long undecodable; // guarded by the reading thread

  private SpanEvents(RingBuffer ring) {
    this.ring = ring;
  }

  public static SpanEvents create(Libbpf libbpf, int bytes) throws BpfException {
    return new SpanEvents(RingBuffer.create(libbpf, bytes));
  }

  /** The ring's descriptor, which each family's object reuses for its map {@code events}. */
  public int fd() {
    return ring.fd();
  }

  public int bytes() {
    return ring.bytes();
  }

  /** Records of {@code source} (EventStructs.SOURCE_*) are decoded by {@code decoder}. */
  public void decode(int source, Decoder decoder) {
    decoders.put(source, decoder);
  }

  /** See {@link RingBuffer#await}. */
  public boolean await(int timeoutMillis) throws BpfException {
    return ring.await(timeoutMillis);
  }

  /** See {@link RingBuffer#wake}. */
  public void wake() {
    ring.wake();
  }

  /** Decodes every record there now into {@code sink}; the number of records read. */
  public int read(Consumer<KernelEvent> sink) throws BpfException {
    return ring.consume(record -> {
      KernelEvent event = null;
      if (record.remaining() >= EventStructs.EVENT_HEADER.size()) {
        Header header = Header.read(record);
        Decoder decoder = decoders.get(header.source());
        event = decoder != null ? decoder.decode(header, record) : null;
      }
      if (event == null) {
        undecodable++;
        return;
      }
      sink.accept(event);
    });
  }

  /** Records no family could decode, or whose consumer failed: a defect if ever non-zero. */
  public long undecodable() {
    return undecodable + ring.failed();
  }

  @Override
  public void close() {
    ring.close();
  }
}
