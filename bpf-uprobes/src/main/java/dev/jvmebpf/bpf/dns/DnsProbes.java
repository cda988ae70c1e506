package dev.jvmebpf.bpf.dns;

import dev.jvmebpf.bpf.FamilyConfig;
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
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.bpf.libc.LibcHooks;
import dev.jvmebpf.bpf.libc.ProbePlacement;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The DNS probe family: a uprobe and a uretprobe, for our pid only, on our libc's getaddrinfo
 * (see dns.h). Lookups are rare next to socket I/O, so their probes cost nothing measurable.
 */
public final class DnsProbes extends ProbeFamily<DnsSnapshot> {

  static final String OBJECT = "dns";
  static final String OTHER = "other";

  static final List<LibcHooks.Hook> HOOKS =
      List.of(new LibcHooks.Hook("getaddrinfo", "uprobe_getaddrinfo", "uretprobe_getaddrinfo"));
  public static final ProbeRequirements NEEDS = ProbeRequirements.libc(List.of("getaddrinfo"));

  /** getaddrinfo's results (glibc's netdb.h), by value. */
  static final Map<Integer, String> EAI_NAMES = Map.ofEntries(Map.entry(-1, "EAI_BADFLAGS"),
      Map.entry(-2, "EAI_NONAME"), Map.entry(-3, "EAI_AGAIN"), Map.entry(-4, "EAI_FAIL"), Map.entry(-5, "EAI_NODATA"),
      Map.entry(-6, "EAI_FAMILY"), Map.entry(-7, "EAI_SOCKTYPE"), Map.entry(-8, "EAI_SERVICE"),
      Map.entry(-9, "EAI_ADDRFAMILY"), Map.entry(-10, "EAI_MEMORY"), Map.entry(-11, "EAI_SYSTEM"),
      Map.entry(-12, "EAI_OVERFLOW"), Map.entry(-100, "EAI_INPROGRESS"), Map.entry(-101, "EAI_CANCELED"),
      Map.entry(-102, "EAI_NOTCANCELED"), Map.entry(-103, "EAI_ALLDONE"), Map.entry(-104, "EAI_INTR"),
      Map.entry(-105, "EAI_IDN_ENCODE"));

  /** Results per name the duration map has room for, on average. */
  static final int RESULTS_PER_NAME = 4;

  private final HistogramLayout durations;
  private final BpfMap lookupDuration;

  private DnsProbes(BpfObject object, HistogramLayout durations, List<ProbePlacement> placements)
      throws BpfException {
    super(object, DnsStructs.PROGRAMS, List.of(), placements);
    this.durations = durations;
    this.lookupDuration = object.map("dns_lookup_duration");
  }

  /**
   * Loads the DNS program and attaches it to our libc's getaddrinfo.
   *
   * @param durations histogram layout for durations in nanoseconds
   * @param nameLimit at most this many names get series of their own; the rest count as "other"
   */
  public static DnsProbes attach(Libbpf libbpf, JvmProcess jvm, HistogramLayout durations, int nameLimit,
      boolean atEntry) throws BpfException {
    return attach(libbpf, jvm, durations, nameLimit, atEntry, null, EventStructs.SPANS_OFF);
  }

  /**
   * {@link #attach(Libbpf, JvmProcess, HistogramLayout, int, boolean)}, and every lookup lasting at
   * least {@code spanMinNanos}, and every failed one, becomes a {@link DnsEvent} in {@code events};
   * no spans when {@code events} is null or the threshold is EventStructs.SPANS_OFF.
   */
  public static DnsProbes attach(Libbpf libbpf, JvmProcess jvm, HistogramLayout durations, int nameLimit,
      boolean atEntry, SpanEvents events, long spanMinNanos) throws BpfException {
    LibcHooks.requireLibc(jvm, "dns");
    FamilyConfig config = FamilyConfig.of(DnsStructs.DNS_CONFIG, jvm).histogram("duration_ns", durations)
        .spans(events, "span_min_ns", spanMinNanos)
        .mapSize("dns_names", nameLimit)
        .mapSize("dns_lookup_duration", (nameLimit + 1) * RESULTS_PER_NAME);
    if (events != null) {
      events.decode(EventStructs.SOURCE_DNS, DnsProbes::decode); // before the first probe fires
    }
    return open(libbpf, OBJECT, config,
        object -> new DnsProbes(object, durations, LibcHooks.loadAndAttachEvery(object, jvm, HOOKS, atEntry, "dns")));
  }

  @Override
  protected DnsSnapshot read() throws BpfException {
    List<DnsSnapshot.Lookup> lookups = new ArrayList<>();
    for (byte[] key : lookupDuration.keys()) {
      HistogramSnapshot d = HistogramMaps.read(lookupDuration, key, durations).orElse(null);
      if (d == null || d.count() == 0) {
        continue;
      }
      ByteBuffer in = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN);
      int nameAt = DnsStructs.DNS_LOOKUP_KEY.offset("name");
      boolean other = in.getInt(nameAt + DnsStructs.DNS_NAME.offset("other")) != 0;
      boolean truncated = in.getInt(nameAt + DnsStructs.DNS_NAME.offset("truncated")) != 0;
      int result = in.getInt(DnsStructs.DNS_LOOKUP_KEY.offset("result"));
      String name = other ? OTHER : name(key, nameAt + DnsStructs.DNS_NAME.offset("name")) + (truncated ? "…" : "");
      lookups.add(new DnsSnapshot.Lookup(name, other, resultName(result), d));
    }
    return new DnsSnapshot(lookups, probeStats());
  }

  /** A struct dns_event as a DnsEvent; null when it is not one. */
  static DnsEvent decode(SpanEvents.Header header, ByteBuffer record) {
    if (record.remaining() < DnsStructs.DNS_EVENT.size()) {
      return null;
    }
    byte[] bytes = record.array(); // RingBuffer's copy of the record
    int nameAt = DnsStructs.DNS_EVENT.offset("name");
    boolean truncated = record.getInt(nameAt + DnsStructs.DNS_NAME.offset("truncated")) != 0;
    String name = name(bytes, nameAt + DnsStructs.DNS_NAME.offset("name")) + (truncated ? "…" : "");
    return new DnsEvent(name, resultName(record.getInt(DnsStructs.DNS_EVENT.offset("result"))),
        header.startNanos(), header.endNanos(), header.tid(), header.parent());
  }

  /** The NUL-padded name at {@code offset}, at most NAME_MAX bytes, as UTF-8 (names are ASCII). */
  private static String name(byte[] key, int offset) {
    int end = offset;
    while (end < offset + DnsStructs.NAME_MAX && key[end] != 0) {
      end++;
    }
    return new String(key, offset, end - offset, StandardCharsets.UTF_8);
  }

  /** error.type of a getaddrinfo result: null for 0, the EAI_* name otherwise. */
  static String resultName(int result) {
    if (result == 0) {
      return null;
    }
    return EAI_NAMES.getOrDefault(result, "EAI " + result);
  }
}
