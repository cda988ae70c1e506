package dev.jvmebpf.agent.socket;

import dev.jvmebpf.agent.JavaBaseClasses;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.events.SpanParent;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import dev.jvmebpf.bpf.socket.SocketEvent;
import dev.jvmebpf.bpf.socket.SocketPeer;
import dev.jvmebpf.bpf.socket.SocketProbes;
import dev.jvmebpf.bpf.socket.SocketSnapshot;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The socket family's receives and transmits, timed in the JDK's own TCP socket implementation
 * instead of by uprobes on libc's read and write, which every call of the process pays for
 * (files too; measured: an HTTP server lost about 30% of its throughput to them, and nothing
 * measurable to this). Configuration {@code socket.timing=jdk}.
 *
 * <p>{@link #install} defines {@link SocketTimingPoint} in {@code sun.nio.ch} as
 * {@code JebSocketTiming} ({@link JavaBaseClasses}) and rewrites the JDK's socket classes through
 * {@link SocketTimingTransformer} (those not loaded yet as they load);
 * {@link #close} switches recording off (the rewritten methods stay, testing one volatile flag per
 * call: no retransformation at exit or detach).
 */
public final class JdkSocketTiming implements SocketProbes.IoSource {

  static final String POINT = SocketTimingPoint.JAVA_BASE_NAME;
  private static final String[] DIRECTIONS = {"receive", "transmit"};

  /** The point's SocketTimingPoint.CONTROL: its operations, called without reflection. */
  private final Function<Object[], Object> point;
  private final HistogramLayout durations;
  private final HistogramLayout sizes;

  private final Supplier<SpanParent> parents;

  private JdkSocketTiming(Function<Object[], Object> point, HistogramLayout durations, HistogramLayout sizes,
      Supplier<SpanParent> parents) {
    this.point = point;
    this.parents = parents;
    this.durations = durations;
    this.sizes = sizes;
  }

  /** The point's control, read once (the only reflection: a public static field of java.base's copy). */
  @SuppressWarnings("unchecked")
  static Function<Object[], Object> control(Class<?> point) throws ReflectiveOperationException {
    return (Function<Object[], Object>) point.getField("CONTROL").get(null);
  }

  private Object call(Object... operation) {
    return point.apply(operation);
  }

  /**
   * Puts the timing point into this JVM's socket classes and starts recording. Throws when the
   * JVM does not let us (no retransformation, an unknown JDK layout); the caller then probes libc.
   */
  public static JdkSocketTiming install(Instrumentation instrumentation, Set<Integer> listening,
      HistogramLayout durations, HistogramLayout sizes, int peerLimit) throws Exception {
    return install(instrumentation, listening, durations, sizes, peerLimit, () -> null);
  }

  /**
   * The same; {@code parents} gives the calling thread's current application span for the spans
   * of slow calls (our thread context writer's, read on that thread), null for none.
   *
   * <p>The JDK's socket classes already loaded are retransformed; the others are loaded here, and
   * rewritten as they load, which costs no RedefineClasses safepoint. (SocketChannelImpl is loaded
   * by any Files.readAllBytes, so it is nearly always the one retransformed.) The transformer is
   * removed before this returns: while one is registered, the JVM hands every class it loads to
   * the agents' transformers, a copy of its bytes each (measured, Temurin 25, medians of 5: 15,000
   * JDK classes loaded after the start took 1,198 ms of CPU with it registered, 925 ms with it
   * removed, 960 ms without an agent), which the application would pay for every class it loads.
   */
  public static JdkSocketTiming install(Instrumentation instrumentation, Set<Integer> listening,
      HistogramLayout durations, HistogramLayout sizes, int peerLimit, Supplier<SpanParent> parents)
      throws Exception {
    if (!instrumentation.isRetransformClassesSupported()) {
      throw new IllegalStateException("this JVM cannot retransform classes");
    }
    // Any loaded class of sun.nio.ch, to define the point into that package; not one of the
    // targets, which would then be loaded only to be retransformed.
    Class<?> anchor = Class.forName("sun.nio.ch.IOUtil", false, null);
    Function<Object[], Object> point = control(JavaBaseClasses.define(instrumentation, SocketTimingPoint.class,
        POINT, anchor));
    JdkSocketTiming timing = new JdkSocketTiming(point, durations, sizes, parents);
    timing.call("on", false);
    timing.call("slow", null);
    timing.call("slowNanos", Long.MAX_VALUE);
    timing.call("configure", table(durations), table(sizes), peerLimit);
    for (int p : listening) {
      timing.call("listening", p);
    }
    SocketTimingTransformer transformer = new SocketTimingTransformer(POINT);
    instrumentation.addTransformer(transformer, true);
    try {
      // After addTransformer: a target the application loads meanwhile is rewritten as it loads,
      // and again here if listed (retransformation starts from the original bytes): never missed.
      Set<String> targets = new java.util.HashSet<>();
      for (String internal : SocketTimingTransformer.CLASSES) {
        targets.add(internal.replace('/', '.'));
      }
      List<Class<?>> loaded = new ArrayList<>();
      for (Class<?> c : instrumentation.getInitiatedClasses(null)) { // every class of the boot loader
        if (targets.contains(c.getName())) {
          if (!instrumentation.isModifiableClass(c)) {
            throw new IllegalStateException(c.getName() + " cannot be modified in this JVM");
          }
          loaded.add(c);
        }
      }
      if (!loaded.isEmpty()) {
        instrumentation.retransformClasses(loaded.toArray(new Class<?>[0]));
      }
      for (String name : targets) {
        Class.forName(name, false, null); // not loaded yet: rewritten as it loads now
      }
      if (!transformer.rewritten.containsAll(SocketTimingTransformer.CLASSES)) {
        throw new IllegalStateException("the JDK's socket classes were not all rewritten: " + transformer.failures
            + " (rewritten: " + transformer.rewritten + ")");
      }
    } finally {
      instrumentation.removeTransformer(transformer);
    }
    timing.call("on", true);
    return timing;
  }

  /** The layout's upper bounds, the last one as Long.MAX_VALUE (the point compares signed). */
  static long[] table(HistogramLayout layout) {
    long[] upper = new long[layout.bucketCount()];
    for (int k = 0; k < upper.length; k++) {
      upper[k] = layout.upper(k) < 0 ? Long.MAX_VALUE : layout.upper(k);
    }
    upper[upper.length - 1] = Long.MAX_VALUE;
    return upper;
  }

  @Override
  public void spans(SpanEvents events, long minNanos) {
    Consumer<Object[]> slow = call -> events.offer(event(call));
    // Once here, so that the application's first slow call does not load our classes on its
    // thread (measured: 5 ms inside that call on a first run).
    event(new Object[] {InetAddress.getLoopbackAddress(), 1, false, SocketTimingPoint.RECEIVE, 0L, 0L, 0L, null});
    call("slow", slow);
    call("slowNanos", Math.max(0, minNanos));
  }

  /** A slow call, as the timing point hands it over, with the calling thread's parent. */
  private SocketEvent event(Object[] call) {
    InetAddress address = (InetAddress) call[0];
    int port = (Integer) call[1];
    SocketPeer peer = (Boolean) call[2] ? new SocketPeer("", 0, "unix", false) : SocketPeer.of(address, port, "tcp");
    return new SocketEvent(peer, DIRECTIONS[(Integer) call[3]], (String) call[7], (Long) call[6], (Long) call[4],
        (Long) call[5], 0, parents.get());
  }

  @Override
  public List<SocketSnapshot.Io> io() {
    List<SocketSnapshot.Io> out = new ArrayList<>();
    int slots = (Integer) call("count");
    int step = (Integer) call("stride");
    SocketPeer[] peers = new SocketPeer[slots];
    for (int s = 0; s < slots; s++) {
      peers[s] = (Boolean) call("other", s) ? SocketPeer.OTHER
          : (Boolean) call("unix", s) ? new SocketPeer("", 0, "unix", false)
          : SocketPeer.of((InetAddress) call("address", s), (Integer) call("port", s), "tcp");
      AtomicLongArray d = (AtomicLongArray) call("data", s);
      for (int direction = 0; direction < 2; direction++) {
        HistogramSnapshot took = read(d, (2 * direction) * step, durations);
        if (took.count() > 0) {
          out.add(new SocketSnapshot.Io(peers[s], DIRECTIONS[direction], null, took,
              read(d, (2 * direction + 1) * step, sizes)));
        }
        HistogramSnapshot blocked = read(d, (SocketTimingPoint.RECEIVE_EAGAIN + direction) * step, durations);
        if (blocked.count() > 0) {
          out.add(new SocketSnapshot.Io(peers[s], DIRECTIONS[direction], "EAGAIN", blocked,
              HistogramSnapshot.empty(sizes)));
        }
      }
    }
    @SuppressWarnings("unchecked")
    Map<String, AtomicLongArray> failed = (Map<String, AtomicLongArray>) call("failures");
    for (Map.Entry<String, AtomicLongArray> f : failed.entrySet()) {
      String[] key = f.getKey().split(" ", 3);
      int s = Integer.parseInt(key[0]);
      if (s >= slots) {
        continue; // its slot appeared after our count: next time
      }
      HistogramSnapshot took = read(f.getValue(), 0, durations);
      if (took.count() > 0) {
        out.add(new SocketSnapshot.Io(peers[s], DIRECTIONS[Integer.parseInt(key[1])], key[2], took,
            HistogramSnapshot.empty(sizes)));
      }
    }
    return out;
  }

  /** One histogram at {@code base}, as the kernel's struct hist reads (min 0 when zeros were counted). */
  static HistogramSnapshot read(AtomicLongArray d, int base, HistogramLayout layout) {
    long[] counts = new long[layout.bucketCount()];
    for (int k = 0; k < counts.length; k++) {
      counts[k] = d.get(base + 4 + k);
    }
    long zero = d.get(base + 3);
    long min = zero > 0 ? 0 : d.get(base + 1);
    return new HistogramSnapshot(layout, zero, counts, d.get(base), min, d.get(base + 2));
  }

  @Override
  public void close() {
    call("on", false);
    call("slowNanos", Long.MAX_VALUE);
    call("slow", null);
  }
}
