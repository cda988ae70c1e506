package dev.jvmebpf.agent.socket;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SelectableChannel;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The recording side of the JDK socket timing point, called by the code that
 * {@link SocketTimingTransformer} adds to the JDK's socket implementation. It is never loaded
 * under this name: {@link JdkSocketTiming} defines a copy of it in the JDK's own package
 * {@code sun.nio.ch} (where that code can see it), so it uses JDK types only, has no nested
 * class and no lambda, and the agent reaches its state through reflection.
 *
 * <p>Each series (one peer and transport) holds six histograms in one {@code AtomicLongArray},
 * laid out as the kernel's {@code struct hist} (sum, min, max, zero count, buckets): receive
 * durations and sizes, transmit durations and sizes, and the durations of receives and
 * transmits that found nothing to do (EAGAIN). Other failures are keyed by exception class.
 * Recording is a few atomic adds and a binary search over the bucket table Java computed for
 * the kernel (HistogramLayout): nothing allocates after a series exists.
 */
public final class SocketTimingPoint implements java.util.function.Function<Object[], Object> {

  /** Its name inside java.base (the build writes its copy renamed so: JavaBaseTemplates). */
  public static final String JAVA_BASE_NAME = "sun/nio/ch/JebSocketTiming";

  /** Receive, then transmit: network.io.direction's order in SocketStructs.DIRECTIONS. */
  public static final int RECEIVE = 0;
  public static final int TRANSMIT = 1;

  /** Histograms of a series, in this order. */
  public static final int HISTS = 6;
  static final int RECEIVE_DURATION = 0;
  static final int RECEIVE_SIZE = 1;
  static final int TRANSMIT_DURATION = 2;
  static final int TRANSMIT_SIZE = 3;
  static final int RECEIVE_EAGAIN = 4;
  static final int TRANSMIT_EAGAIN = 5;

  /** Set last by the agent, after the tables; cleared at close (the rewritten code stays, idle). */
  public static volatile boolean on;

  /**
   * Calls lasting at least slowNanos go to {@code slow} as {address (InetAddress or null), port,
   * unix (Boolean), direction, start, end, bytes (Long), error class (String or null)}, on the
   * calling thread (which is why the agent reads the thread's context there). Long.MAX_VALUE: none.
   */
  public static volatile long slowNanos = Long.MAX_VALUE;
  public static volatile java.util.function.Consumer<Object[]> slow;

  // The configuration, written once before `on`.
  static long[] durationUpper;
  static long[] sizeUpper;
  static int stride;
  static int limit;

  // Series: slot -> state, found through an open-addressing table of slot numbers + 1.
  static InetAddress[] addresses;
  static int[] ports;
  static boolean[] unix;
  static AtomicReferenceArray<AtomicLongArray> data;
  static AtomicIntegerArray table;
  static int count; // guarded by the class
  /** The slot of every peer beyond the limit. */
  static int otherSlot;
  /** Failed calls other than EAGAIN: "slot direction exception-class" -> durations. */
  static ConcurrentHashMap<String, AtomicLongArray> failures;
  /** Our listening TCP ports, one bit each: a connection to one of them is inbound (its peer has no port). */
  static AtomicIntegerArray listening;
  /**
   * Outbound non-blocking channels (selectors, HttpClient) with a transmit whose reply has not
   * come yet: channel -> that transmit's start (nanoTime), weakly, in stripes by identity hash.
   */
  static Object[] waiting;
  static final int STRIPES = 64;

  /**
   * The agent's way in: the agent sees this class only through its java.base copy, and calls
   * {@link #apply} on this instance instead of each method and field by reflection (for which the
   * JDK made method handles of each new shape at the agent's start, about 20 ms, and which every
   * export then paid per series).
   */
  public static final SocketTimingPoint CONTROL = new SocketTimingPoint();

  private SocketTimingPoint() {}

  /**
   * One operation of the agent's: {@code call[0]} names it, the rest are its arguments; returns
   * its result (null for none). Operations: on, slow, slowNanos, configure, listening (setting);
   * count, stride, address, port, unix, other, data, failures (reading a series by slot).
   */
  @Override
  @SuppressWarnings("unchecked")
  public Object apply(Object[] call) {
    switch ((String) call[0]) {
      case "on":
        on = (Boolean) call[1];
        return null;
      case "slow":
        slow = (java.util.function.Consumer<Object[]>) call[1];
        return null;
      case "slowNanos":
        slowNanos = (Long) call[1];
        return null;
      case "configure":
        configure((long[]) call[1], (long[]) call[2], (Integer) call[3]);
        return null;
      case "listening":
        listening((Integer) call[1]);
        return null;
      case "count":
        return count();
      case "stride":
        return stride();
      case "address":
        return address((Integer) call[1]);
      case "port":
        return port((Integer) call[1]);
      case "unix":
        return unix((Integer) call[1]);
      case "other":
        return other((Integer) call[1]);
      case "data":
        return data((Integer) call[1]);
      case "failures":
        return failures();
      default:
        throw new IllegalArgumentException("no operation " + call[0]);
    }
  }

  /** Sets the tables up; {@code on} stays false until the agent sets it. */
  public static void configure(long[] durations, long[] sizes, int peerLimit) {
    durationUpper = durations;
    sizeUpper = sizes;
    stride = 4 + Math.max(durations.length, sizes.length);
    limit = peerLimit;
    addresses = new InetAddress[peerLimit + 1];
    ports = new int[peerLimit + 1];
    unix = new boolean[peerLimit + 1];
    data = new AtomicReferenceArray<>(peerLimit + 1);
    int size = Integer.highestOneBit(Math.max(4, (peerLimit + 1) * 4) - 1) << 1;
    table = new AtomicIntegerArray(size);
    failures = new ConcurrentHashMap<>();
    listening = new AtomicIntegerArray(65536 / 32);
    waiting = new Object[STRIPES];
    for (int i = 0; i < STRIPES; i++) {
      waiting[i] = new java.util.WeakHashMap<Object, long[]>();
    }
    otherSlot = -1;
  }

  /** A port this JVM listens on (ServerSocket, ServerSocketChannel). */
  public static void listening(int port) {
    if (port > 0 && port < 65536 && listening != null) {
      int bits = listening.get(port >>> 5);
      while (!listening.compareAndSet(port >>> 5, bits, bits | (1 << (port & 31)))) {
        bits = listening.get(port >>> 5);
      }
    }
  }

  /** A ServerSocketChannel was bound: its port. */
  public static void listeningChannel(Object channel) {
    try {
      Object address = ((java.nio.channels.NetworkChannel) channel).getLocalAddress();
      if (address instanceof InetSocketAddress) {
        listening(((InetSocketAddress) address).getPort());
      }
    } catch (Exception ignored) {
      // Closed meanwhile, or not ours to know.
    }
  }

  private static boolean isListening(int port) {
    return port > 0 && port < 65536 && (listening.get(port >>> 5) & (1 << (port & 31))) != 0;
  }

  /** A SocketChannel's read or write returned {@code result} (bytes, -1 at end of stream, 0 when it would block). */
  public static void channel(Object channel, Object remote, Object local, int direction, long start, long result) {
    if (!on) {
      return;
    }
    long end = System.nanoTime();
    long took = end - start;
    try {
      int slot = channelSlot(remote, local);
      boolean nonBlocking = channel instanceof SelectableChannel && !((SelectableChannel) channel).isBlocking();
      if (nonBlocking && result > 0 && ports[slot] != 0) {
        // Outbound and not blocking: the application waits for the reply in its selector, so
        // the first receive with data after a transmit is timed from that transmit's end.
        took = waited(channel, direction, end, took);
      }
      record(slot, direction, took, result, nonBlocking && result == 0);
      if (took >= slowNanos && !(nonBlocking && result == 0)) {
        slowChannel(remote, local, direction, end - took, end, Math.max(0, result), null);
      }
    } catch (RuntimeException ignored) {
      // Never the application's problem.
    }
  }

  private static void slowChannel(Object remote, Object local, int direction, long start, long end, long bytes,
      String error) {
    if (remote instanceof InetSocketAddress) {
      InetSocketAddress r = (InetSocketAddress) remote;
      int localPort = local instanceof InetSocketAddress ? ((InetSocketAddress) local).getPort() : 0;
      slowCall(r.getAddress(), isListening(localPort) ? 0 : r.getPort(), false, direction, start, end, bytes, error);
    } else {
      slowCall(null, 0, remote != null, direction, start, end, bytes, error);
    }
  }

  private static void slowCall(InetAddress address, int port, boolean unixSocket, int direction, long start,
      long end, long bytes, String error) {
    java.util.function.Consumer<Object[]> to = slow;
    if (to != null) {
      to.accept(new Object[] {address, port, unixSocket, direction, start, end, bytes, error});
    }
  }

  /** A SocketChannel's read or write threw. */
  public static void channelFailed(Object remote, Object local, int direction, long start, Throwable error) {
    if (!on) {
      return;
    }
    long end = System.nanoTime();
    long took = end - start;
    try {
      failed(channelSlot(remote, local), direction, took, error);
      if (took >= slowNanos) {
        slowChannel(remote, local, direction, start, end, 0, error.getClass().getName());
      }
    } catch (RuntimeException ignored) {
      // Never the application's problem.
    }
  }

  /** A java.net.Socket's read or write (NioSocketImpl) returned {@code result}. */
  public static void stream(InetAddress address, int port, int localPort, int direction, long start, int result) {
    if (!on) {
      return;
    }
    long end = System.nanoTime();
    long took = end - start;
    try {
      record(slot(address, isListening(localPort) ? 0 : port, false), direction, took, result, false);
      if (took >= slowNanos) {
        slowCall(address, isListening(localPort) ? 0 : port, false, direction, start, end, Math.max(0, result), null);
      }
    } catch (RuntimeException ignored) {
      // Never the application's problem.
    }
  }

  /** A java.net.Socket's read or write threw. */
  public static void streamFailed(InetAddress address, int port, int localPort, int direction, long start,
      Throwable error) {
    if (!on) {
      return;
    }
    long end = System.nanoTime();
    long took = end - start;
    try {
      failed(slot(address, isListening(localPort) ? 0 : port, false), direction, took, error);
      if (took >= slowNanos) {
        slowCall(address, isListening(localPort) ? 0 : port, false, direction, start, end, 0,
            error.getClass().getName());
      }
    } catch (RuntimeException ignored) {
      // Never the application's problem.
    }
  }

  @SuppressWarnings("unchecked")
  private static long waited(Object channel, int direction, long end, long took) {
    java.util.WeakHashMap<Object, long[]> stripe =
        (java.util.WeakHashMap<Object, long[]>) waiting[System.identityHashCode(channel) & (STRIPES - 1)];
    synchronized (stripe) {
      if (direction == TRANSMIT) {
        // The transmit's start, not its end: a thread preempted between the write's return and
        // its clock reading would otherwise shorten the reply's wait by that delay (seen under
        // load: a 50 ms reply timed at 48 ms); the start only adds the write's own few microseconds.
        long since = end - took;
        long[] at = stripe.get(channel);
        if (at == null) {
          stripe.put(channel, new long[] {since});
        } else {
          at[0] = since;
        }
        return took;
      }
      long[] at = stripe.get(channel);
      if (at == null || at[0] == 0) {
        return took;
      }
      long since = end - at[0];
      at[0] = 0;
      return since;
    }
  }

  private static int channelSlot(Object remote, Object local) {
    if (remote instanceof InetSocketAddress) {
      InetSocketAddress r = (InetSocketAddress) remote;
      int localPort = local instanceof InetSocketAddress ? ((InetSocketAddress) local).getPort() : 0;
      return slot(r.getAddress(), isListening(localPort) ? 0 : r.getPort(), false);
    }
    return slot(null, 0, remote != null); // a Unix domain socket; null: not connected
  }

  private static void record(int slot, int direction, long took, long result, boolean wouldBlock) {
    AtomicLongArray d = data.get(slot);
    if (wouldBlock) {
      add(d, (direction == RECEIVE ? RECEIVE_EAGAIN : TRANSMIT_EAGAIN) * stride, took, durationUpper);
      return;
    }
    add(d, (direction == RECEIVE ? RECEIVE_DURATION : TRANSMIT_DURATION) * stride, took, durationUpper);
    add(d, (direction == RECEIVE ? RECEIVE_SIZE : TRANSMIT_SIZE) * stride, Math.max(0, result), sizeUpper);
  }

  private static void failed(int slot, int direction, long took, Throwable error) {
    String key = slot + " " + direction + " " + error.getClass().getName();
    AtomicLongArray d = failures.get(key);
    if (d == null) {
      AtomicLongArray created = new AtomicLongArray(stride);
      d = failures.putIfAbsent(key, created);
      d = d == null ? created : d;
    }
    add(d, 0, took, durationUpper);
  }

  /** Adds {@code v} to the histogram at {@code base}: the kernel's bucket rule (upper-inclusive). */
  static void add(AtomicLongArray h, int base, long v, long[] upper) {
    if (v <= 0) {
      h.getAndIncrement(base + 3);
      return;
    }
    int lo = 0;
    int hi = upper.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (v <= upper[mid]) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    h.getAndIncrement(base + 4 + lo);
    h.getAndAdd(base, v);
    long min = h.get(base + 1);
    while ((min == 0 || v < min) && !h.compareAndSet(base + 1, min, v)) {
      min = h.get(base + 1);
    }
    long max = h.get(base + 2);
    while (v > max && !h.compareAndSet(base + 2, max, v)) {
      max = h.get(base + 2);
    }
  }

  /** The series of a peer: found without allocating; created under the class lock; beyond the limit, "other". */
  static int slot(InetAddress address, int port, boolean unixSocket) {
    int mask = table.length() - 1;
    int h = hash(address, port, unixSocket);
    for (int i = h & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
      int s = table.get(i) - 1;
      if (s < 0) {
        return create(address, port, unixSocket);
      }
      if (ports[s] == port && unix[s] == unixSocket && s != otherSlot
          && (address == null ? addresses[s] == null : address.equals(addresses[s]))) {
        return s;
      }
    }
    return create(address, port, unixSocket);
  }

  private static int hash(InetAddress address, int port, boolean unixSocket) {
    int h = (address == null ? 0 : address.hashCode()) * 31 + port + (unixSocket ? 7 : 0);
    return h ^ h >>> 16;
  }

  private static synchronized int create(InetAddress address, int port, boolean unixSocket) {
    int mask = table.length() - 1;
    int h = hash(address, port, unixSocket);
    int free = -1;
    for (int i = h & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
      int s = table.get(i) - 1;
      if (s < 0) {
        free = i;
        break;
      }
      if (ports[s] == port && unix[s] == unixSocket && s != otherSlot
          && (address == null ? addresses[s] == null : address.equals(addresses[s]))) {
        return s; // created meanwhile
      }
    }
    if (count >= limit || free < 0) {
      if (otherSlot < 0) {
        otherSlot = count++;
        data.set(otherSlot, new AtomicLongArray(HISTS * stride));
      }
      return otherSlot;
    }
    int s = count++;
    addresses[s] = address;
    ports[s] = port;
    unix[s] = unixSocket;
    data.set(s, new AtomicLongArray(HISTS * stride));
    table.set(free, s + 1); // published last
    return s;
  }

  /** Slots in use; slot i's peer and data are then readable. */
  public static synchronized int count() {
    return count;
  }

  /** Slot {@code s}'s peer address (null: none, a Unix socket or "other"). */
  public static InetAddress address(int s) {
    return addresses[s];
  }

  public static int port(int s) {
    return ports[s];
  }

  public static boolean unix(int s) {
    return unix[s];
  }

  public static synchronized boolean other(int s) {
    return s == otherSlot;
  }

  public static AtomicLongArray data(int s) {
    return data.get(s);
  }

  /** The failed calls other than EAGAIN: "slot direction exception-class" to durations. */
  public static java.util.Map<String, AtomicLongArray> failures() {
    return failures;
  }

  /** Values per histogram in data(s): 4 + the larger table's length. */
  public static int stride() {
    return stride;
  }
}
