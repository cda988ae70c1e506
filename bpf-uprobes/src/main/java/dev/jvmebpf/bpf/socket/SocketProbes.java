package dev.jvmebpf.bpf.socket;

import dev.jvmebpf.bpf.FamilyConfig;
import dev.jvmebpf.bpf.KernelVersion;
import dev.jvmebpf.bpf.events.EventStructs;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.ProbeFamily;
import dev.jvmebpf.bpf.ProbeRequirements;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramMaps;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfMap;
import dev.jvmebpf.bpf.libbpf.BpfObject;
import dev.jvmebpf.bpf.libbpf.Errno;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.bpf.libc.LibcHooks;
import dev.jvmebpf.bpf.libc.ProbePlacement;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The socket probe family: uprobes and uretprobes, for our pid only, on our libc's socket I/O
 * functions, connect and getsockopt (see socket.h). Every call of these functions pays for its
 * probes, sockets or not (a file's read too); only socket calls are recorded.
 */
public final class SocketProbes extends ProbeFamily<SocketSnapshot> {

  static final String OBJECT = "socket";

  /**
   * The libc functions the JDK (17 and 25: java.net.Socket, SocketChannel blocking and with a
   * selector, DatagramSocket/Channel, HttpClient) and common native transports move socket data
   * with, as observed; plus connect, getsockopt (the end of a non-blocking connect),
   * getaddrinfo (whose own traffic is left to the DNS family) and listen (which makes its port's
   * connections inbound).
   */
  static final List<LibcHooks.Hook> HOOKS = hooks();
  public static final ProbeRequirements NEEDS = ProbeRequirements.libc(SocketStructs.FUNCTIONS)
      .withKernel(new KernelVersion(6, 2), "bpf_rdonly_cast 6.2, attach cookies 5.15, task storage 5.11, "
          + ProbeRequirements.COMMON_FEATURES);

  /** Every function to the two programs, its enum socket_probe value as cookie. */
  private static List<LibcHooks.Hook> hooks() {
    List<LibcHooks.Hook> hooks = new ArrayList<>();
    for (int i = 0; i < SocketStructs.FUNCTIONS.size(); i++) {
      hooks.add(new LibcHooks.Hook(SocketStructs.FUNCTIONS.get(i), "uprobe_socket", "uretprobe_socket", i));
    }
    return List.copyOf(hooks);
  }

  /**
   * The functions the JDK's TCP sockets move their data with (and every file's I/O too, which is
   * why probing them costs a server dearly): left to another timing point (the agent's, in the
   * JDK's socket implementation) when there is one.
   */
  public static final List<String> JDK_TCP_FUNCTIONS = List.of("read", "readv", "write", "writev");

  /**
   * The hooks without {@link #JDK_TCP_FUNCTIONS}: what stays in libc when another timing point
   * records the JDK's TCP receives and transmits. recv, send and the rest are called on sockets
   * only (the JDK's UDP uses them), so they trap no file I/O.
   */
  static final List<LibcHooks.Hook> HOOKS_WITHOUT_JDK_TCP = withoutJdkTcp();

  // A loop, not a stream: a stream's toList spins a class of the JDK at its first use.
  private static List<LibcHooks.Hook> withoutJdkTcp() {
    List<LibcHooks.Hook> out = new ArrayList<>();
    for (LibcHooks.Hook h : HOOKS) {
      if (!JDK_TCP_FUNCTIONS.contains(h.function())) {
        out.add(h);
      }
    }
    return List.copyOf(out);
  }

  /**
   * Receives and transmits recorded outside the kernel, in the same bucket layouts: the agent's
   * timing point in the JDK's socket implementation. The family merges its series into each
   * snapshot and closes it with itself.
   */
  public interface IoSource extends AutoCloseable {
    /** Every series recorded so far (cumulative), histograms in the given layouts. */
    List<SocketSnapshot.Io> io();

    /** A line for the family's limitations, or null. */
    default String limitation() {
      return null;
    }

    /**
     * Receives and transmits lasting at least {@code minNanos} become {@link SocketEvent}s offered
     * to {@code events} (SpanEvents.offer), as the kernel's would be.
     */
    void spans(SpanEvents events, long minNanos);

    @Override
    void close();
  }

  /** Errors per peer and direction the duration map has room for, on average. */
  static final int ERRORS_PER_SERIES = 8;

  private final HistogramLayout durations;
  private final HistogramLayout sizes;
  private final BpfMap io;
  private final BpfMap ioFailed;
  private final BpfMap connectDuration;

  private final IoSource javaIo;

  private SocketProbes(BpfObject object, HistogramLayout durations, HistogramLayout sizes,
      List<ProbePlacement> placements, List<String> limitations, IoSource javaIo) throws BpfException {
    super(object, SocketStructs.PROBES, limitations, placements);
    this.javaIo = javaIo;
    this.durations = durations;
    this.sizes = sizes;
    this.io = object.map("socket_io");
    this.ioFailed = object.map("socket_io_failed");
    this.connectDuration = object.map("socket_connect_duration");
  }

  /**
   * Loads the socket program and attaches it to our libc.
   *
   * @param durations histogram layout for durations in nanoseconds
   * @param sizes histogram layout for sizes in bytes
   * @param peerLimit at most this many peers get series of their own; the rest count as "other"
   * @param atEntry probe every function at its entry instead of where decoding our libc finds an
   *     emulated instruction (see {@link ProbePlacement}); for comparisons
   */
  public static SocketProbes attach(Libbpf libbpf, JvmProcess jvm, HistogramLayout durations, HistogramLayout sizes,
      int peerLimit, boolean atEntry) throws BpfException {
    return attach(libbpf, jvm, durations, sizes, peerLimit, atEntry, null, EventStructs.SPANS_OFF,
        EventStructs.SPANS_OFF);
  }

  /**
   * {@link #attach(Libbpf, JvmProcess, HistogramLayout, HistogramLayout, int, boolean)}, and every
   * receive or transmit lasting at least {@code ioSpanMinNanos}, every connect lasting at least
   * {@code connectSpanMinNanos} and every failed connect becomes a {@link SocketEvent} in
   * {@code events}; no spans when {@code events} is null (EventStructs.SPANS_OFF turns one kind off).
   */
  public static SocketProbes attach(Libbpf libbpf, JvmProcess jvm, HistogramLayout durations, HistogramLayout sizes,
      int peerLimit, boolean atEntry, SpanEvents events, long ioSpanMinNanos, long connectSpanMinNanos)
      throws BpfException {
    return attach(libbpf, jvm, durations, sizes, peerLimit, atEntry, events, ioSpanMinNanos, connectSpanMinNanos,
        null);
  }

  /**
   * The same, except that with {@code javaIo} {@link #JDK_TCP_FUNCTIONS} are not probed: those
   * receives and transmits are {@code javaIo}'s, which this family then owns (closed with it, also
   * when attaching fails). The other data functions (UDP's), connects, listen and the resolver's
   * nesting stay in libc.
   */
  public static SocketProbes attach(Libbpf libbpf, JvmProcess jvm, HistogramLayout durations, HistogramLayout sizes,
      int peerLimit, boolean atEntry, SpanEvents events, long ioSpanMinNanos, long connectSpanMinNanos,
      IoSource javaIo) throws BpfException {
    try {
      return attachProbes(libbpf, jvm, durations, sizes, peerLimit, atEntry, events, ioSpanMinNanos,
          connectSpanMinNanos, javaIo);
    } catch (BpfException | RuntimeException | Error e) {
      if (javaIo != null) {
        javaIo.close();
      }
      throw e;
    }
  }

  private static SocketProbes attachProbes(Libbpf libbpf, JvmProcess jvm, HistogramLayout durations,
      HistogramLayout sizes, int peerLimit, boolean atEntry, SpanEvents events, long ioSpanMinNanos,
      long connectSpanMinNanos, IoSource javaIo) throws BpfException {
    LibcHooks.requireLibc(jvm, "socket");
    if (events != null) {
      events.decode(EventStructs.SOURCE_SOCKET, SocketProbes::decode); // before the first probe fires
    }
    List<String> limitations = new ArrayList<>();
    OptionalLong errnoOffset = libbpf.errnoThreadPointerOffset();
    if (errnoOffset.isEmpty()) {
      limitations.add("errno unreadable on this platform: failed calls carry error.type=_OTHER");
    }
    int series = (peerLimit + 1) * SocketStructs.DIRECTIONS.size();
    FamilyConfig config = FamilyConfig.of(SocketStructs.SOCKET_CONFIG, jvm)
        .histogram("duration_ns", durations)
        .histogram("size_bytes", sizes)
        .putLong("errno_tp_offset", errnoOffset.orElse(0))
        .putInt("errno_known", errnoOffset.isPresent() ? 1 : 0)
        .spans(events, "span_io_min_ns", ioSpanMinNanos)
        .spans(events, "span_connect_min_ns", connectSpanMinNanos)
        .mapSize("socket_peers", peerLimit)
        .mapSize("socket_io", series)
        .mapSize("socket_io_failed", series * ERRORS_PER_SERIES)
        .mapSize("socket_connect_duration", (peerLimit + 1) * ERRORS_PER_SERIES);

    List<LibcHooks.Hook> hooks = javaIo == null ? HOOKS : HOOKS_WITHOUT_JDK_TCP;
    if (javaIo != null && javaIo.limitation() != null) {
      limitations.add(javaIo.limitation());
    }
    if (javaIo != null && events != null && ioSpanMinNanos != EventStructs.SPANS_OFF) {
      javaIo.spans(events, ioSpanMinNanos);
    }
    return open(libbpf, OBJECT, config, object -> {
      LibcHooks.prepare(object, hooks);
      object.load();
      // Listeners opened before the probes: their connections are inbound too.
      BpfMap listening = object.map("socket_listening");
      try {
        for (int port : libbpf.listeningTcpPorts()) {
          listening.update(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) port).array(),
              new byte[] {1}, 0);
        }
      } catch (BpfException e) {
        limitations.add("listening ports unreadable (" + e.getMessage() + "): connections accepted by listeners "
            + "opened before the agent keep the clients' ports");
      }
      LibcHooks.Attached attached = LibcHooks.attach(object, jvm, hooks, atEntry, "socket");
      if (!attached.missing().isEmpty()) {
        limitations.add("this libc has no " + String.join(", ", attached.missing()) + ": not observed");
      }
      return new SocketProbes(object, durations, sizes, attached.placements(), limitations, javaIo);
    });
  }

  @Override
  protected void release() {
    if (javaIo != null) {
      javaIo.close();
    }
  }

  @Override
  protected SocketSnapshot read() throws BpfException {
    List<SocketSnapshot.Io> series = new ArrayList<>();
    byte[] value = io.newValue();
    for (byte[] key : io.keys()) {
      if (!io.lookup(key, value)) {
        continue;
      }
      HistogramSnapshot d = HistogramSnapshot.fromCopies(durations, value, io.copies(), io.valueStride(),
          SocketStructs.SOCKET_IO_HISTS.offset("duration"));
      HistogramSnapshot s = HistogramSnapshot.fromCopies(sizes, value, io.copies(), io.valueStride(),
          SocketStructs.SOCKET_IO_HISTS.offset("size"));
      addIo(series, key, d, s);
    }
    for (byte[] key : ioFailed.keys()) {
      HistogramSnapshot d = HistogramMaps.read(ioFailed, key, durations).orElse(null);
      if (d != null) {
        addIo(series, key, d, HistogramSnapshot.empty(sizes));
      }
    }
    List<SocketSnapshot.Connect> connects = new ArrayList<>();
    for (byte[] key : connectDuration.keys()) {
      HistogramSnapshot d = HistogramMaps.read(connectDuration, key, durations).orElse(null);
      if (d == null || d.count() == 0) {
        continue;
      }
      int error = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN)
          .getInt(SocketStructs.SOCKET_CONNECT_KEY.offset("error"));
      connects.add(new SocketSnapshot.Connect(SocketPeer.decode(key, SocketStructs.SOCKET_CONNECT_KEY.offset("peer")),
          errorName(error), d));
    }
    if (javaIo != null) {
      series.addAll(javaIo.io());
    }
    return new SocketSnapshot(series, connects, probeStats());
  }

  private static void addIo(List<SocketSnapshot.Io> series, byte[] key, HistogramSnapshot durations,
      HistogramSnapshot sizes) {
    if (durations.count() == 0) {
      return;
    }
    ByteBuffer in = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN);
    int direction = in.getInt(SocketStructs.SOCKET_IO_KEY.offset("direction"));
    int error = in.getInt(SocketStructs.SOCKET_IO_KEY.offset("error"));
    series.add(new SocketSnapshot.Io(SocketPeer.decode(key, SocketStructs.SOCKET_IO_KEY.offset("peer")),
        SocketStructs.DIRECTIONS.get(Math.min(direction, SocketStructs.DIRECTIONS.size() - 1)), errorName(error),
        durations, sizes));
  }

  /** A struct socket_event as a SocketEvent; null when it is not one. */
  static SocketEvent decode(SpanEvents.Header header, ByteBuffer record) {
    if (record.remaining() < SocketStructs.SOCKET_EVENT.size()) {
      return null;
    }
    byte[] bytes = record.array(); // RingBuffer's copy of the record
    boolean connect = header.kind() == SocketStructs.EVENT_CONNECT;
    int direction = record.getInt(SocketStructs.SOCKET_EVENT.offset("direction"));
    return new SocketEvent(SocketPeer.decode(bytes, SocketStructs.SOCKET_EVENT.offset("peer")),
        connect ? null : SocketStructs.DIRECTIONS.get(Math.min(direction, SocketStructs.DIRECTIONS.size() - 1)),
        errorName(record.getInt(SocketStructs.SOCKET_EVENT.offset("error"))),
        record.getLong(SocketStructs.SOCKET_EVENT.offset("bytes")), header.startNanos(), header.endNanos(),
        header.tid(), header.parent());
  }

  /** The error.type of an errno: null for 0, "_OTHER" when it could not be read. */
  static String errorName(int errno) {
    if (errno == 0) {
      return null;
    }
    return errno == SocketStructs.ERROR_UNKNOWN ? "_OTHER" : Errno.name(errno);
  }
}
