package dev.jvmebpf.bpf.events;

import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfMap;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.libbpf.RingBuffer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The one span ring buffer that every family's object shares (events.h), and the decoding of its
 * records by {@code source}: each family registers the decoder of its own records when it
 * attaches. One thread reads ({@link #await}, {@link #read}); see {@link RingBuffer}.
 *
 * <p>With the ring comes the map {@code thread_ctx} that every object shares too: where the
 * programs find the current thread's OpenTelemetry thread context (events.h), which
 * {@link #locateThreadContext} keeps up to date.
 */
public final class SpanEvents implements AutoCloseable {

  /** The ring's default size: about 3,600 GC records (64 bytes and the ring's own 8), or 2,500 slow socket calls. */
  public static final int DEFAULT_BYTES = 256 * 1024;

  /** The start of every record; {@code parent} null when the event has none. */
  public record Header(long startNanos, long endNanos, int tid, int source, int kind, SpanParent parent) {

    static Header read(ByteBuffer record) {
      return new Header(record.getLong(EventStructs.EVENT_HEADER.offset("start_ns")),
          record.getLong(EventStructs.EVENT_HEADER.offset("end_ns")),
          record.getInt(EventStructs.EVENT_HEADER.offset("tid")),
          Short.toUnsignedInt(record.getShort(EventStructs.EVENT_HEADER.offset("source"))),
          Short.toUnsignedInt(record.getShort(EventStructs.EVENT_HEADER.offset("kind"))),
          SpanParent.read(record, EventStructs.EVENT_HEADER.offset("parent")));
    }
  }

  /** A family's reading of its records; null for a record it does not know. */
  @FunctionalInterface
  public interface Decoder {
    KernelEvent decode(Header header, ByteBuffer record);
  }

  /** Events timed in Java (the agent's JDK socket timing point) waiting for the reader, at most this many. */
  public static final int JAVA_EVENTS = 4096;

  private final RingBuffer ring;
  private final java.util.concurrent.BlockingQueue<KernelEvent> javaEvents =
      new java.util.concurrent.ArrayBlockingQueue<>(JAVA_EVENTS);
  private final java.util.concurrent.atomic.AtomicLong javaDropped = new java.util.concurrent.atomic.AtomicLong();
  private final BpfMap threadContext;
  private final ThreadContextLocator locator;
  private final Map<Integer, Decoder> decoders = new ConcurrentHashMap<>();
  private final Path ourLibrary;
  private final Libbpf libbpf;
  private long undecodable; // guarded by the reading thread
  private ThreadContextLocator.Location location; // guarded by this
  private volatile boolean foreignWriter; // written under this

  private SpanEvents(Libbpf libbpf, RingBuffer ring, BpfMap threadContext, ThreadContextLocator locator,
      Path ourLibrary) {
    this.libbpf = libbpf;
    this.ring = ring;
    this.ourLibrary = ourLibrary;
    this.threadContext = threadContext;
    this.locator = locator;
  }

  public static SpanEvents create(Libbpf libbpf, int bytes) throws BpfException {
    BpfMap threadContext = BpfMap.createArray(libbpf, "jeb_thread_ctx", EventStructs.THREAD_CTX_LOCATION.size(), 1);
    try {
      return new SpanEvents(libbpf, RingBuffer.create(libbpf, bytes), threadContext,
          ThreadContextLocator.of(libbpf), libbpf.threadContextLibrary());
    } catch (BpfException | RuntimeException e) {
      threadContext.closeCreated();
      throw e;
    }
  }

  /** The descriptor of the map {@code thread_ctx}, which each family's object reuses. */
  public int threadContextFd() {
    return threadContext.fd();
  }

  /**
   * Looks at the libraries loaded since the last call for ones that export the thread context
   * pointer and points the programs at the one to read: another writer's when the process has one
   * (the first found; it is never competed with), else ours (the bundled library's, which
   * {@link ThreadContextWriter} writes). The location in use; empty while there is none.
   */
  public synchronized Optional<ThreadContextLocator.Location> locateThreadContext() throws BpfException {
    if (location != null && foreignWriter) {
      return Optional.of(location);
    }
    for (ThreadContextLocator.Location found : locator.findNew()) {
      boolean ours = isOurLibrary(found.library());
      if (location == null || !ours) {
        use(found, !ours);
        if (foreignWriter) {
          break;
        }
      }
    }
    return Optional.ofNullable(location);
  }

  /** Points the programs at {@code found}. */
  synchronized void use(ThreadContextLocator.Location found, boolean foreign) throws BpfException {
    ByteBuffer value = EventStructs.THREAD_CTX_LOCATION.allocate();
    value.putLong(EventStructs.THREAD_CTX_LOCATION.offset("module"), found.module());
    value.putLong(EventStructs.THREAD_CTX_LOCATION.offset("offset"), found.offset());
    value.putLong(EventStructs.THREAD_CTX_LOCATION.offset("tp_offset"), found.threadPointerOffset());
    threadContext.update(new byte[Integer.BYTES], value.array(), 0);
    location = found;
    foreignWriter = foreign;
  }

  /**
   * The calling thread's current application span as the probes would read it now: from the
   * other writer's record when the process has one, else from {@code ours} (null: none). For
   * events timed in Java, on the thread that made the call; a native call when another writer
   * publishes (spans are rare: slow calls only).
   */
  public SpanParent callingThreadParent(ThreadContextWriter ours) {
    ThreadContextLocator.Location other;
    synchronized (this) {
      other = foreignWriter ? location : null;
    }
    if (other == null) {
      return ours == null ? null : ours.current();
    }
    byte[] record = libbpf.threadContextRecord(other.library(), ThreadContextWriter.RECORD_HEADER_BYTES);
    return record == null ? null : ThreadContextWriter.parent(ByteBuffer.wrap(record));
  }

  /** Whether the programs read another writer's thread context (then ours must not write); cheap. */
  public boolean foreignWriter() {
    return foreignWriter;
  }

  private boolean isOurLibrary(Path library) {
    try {
      return ourLibrary != null && Files.isSameFile(library, ourLibrary);
    } catch (IOException e) {
      return false;
    }
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

  /**
   * An event timed outside the kernel (the agent's timing point in the JDK's sockets), read with
   * the ring's next records; never blocks: false, and counted in {@link #javaDropped}, when
   * {@link #JAVA_EVENTS} are already waiting.
   */
  public boolean offer(KernelEvent event) {
    if (javaEvents.offer(event)) {
      return true;
    }
    javaDropped.incrementAndGet();
    return false;
  }

  /** Events {@link #offer} found no room for. */
  public long javaDropped() {
    return javaDropped.get();
  }

  /** Decodes every record there now into {@code sink}, then the events offered; the number read. */
  public int read(Consumer<KernelEvent> sink) throws BpfException {
    int read = readRing(sink);
    for (KernelEvent e = javaEvents.poll(); e != null; e = javaEvents.poll()) {
      sink.accept(e);
      read++;
    }
    return read;
  }

  private int readRing(Consumer<KernelEvent> sink) throws BpfException {
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
    threadContext.closeCreated();
  }
}
