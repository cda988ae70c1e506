package dev.jvmebpf.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jvmebpf.bpf.heapalloc.AllocationStructs;
import dev.jvmebpf.bpf.nativealloc.NativeAllocationStructs;
import dev.jvmebpf.bpf.btf.Btf;
import dev.jvmebpf.bpf.btf.StructLayout;
import dev.jvmebpf.bpf.events.EventStructs;
import dev.jvmebpf.bpf.gc.GcStructs;
import dev.jvmebpf.bpf.hist.HistStructs;
import dev.jvmebpf.bpf.libbpf.BpfObjectSpec;
import dev.jvmebpf.bpf.dns.DnsStructs;
import dev.jvmebpf.bpf.socket.SocketStructs;
import dev.jvmebpf.bpf.safepoint.SafepointStructs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Java mirrors of the shared headers against the compiled objects' BTF: a header change
 * that is not mirrored (or the reverse) fails here, not in production.
 */
class KernelLayoutTest {

  @Test
  void gcMirrorsMatchGcObject() throws Exception {
    Btf btf = BpfObjectSpec.fromResource("gc").btf();
    for (StructLayout layout : List.of(HistStructs.HIST_LAYOUT, HistStructs.HIST, HistStructs.PROBE_STATS,
        HistStructs.PROCESS_FILTER, GcStructs.GC_NAME, GcStructs.GC_CONFIG, GcStructs.GC_POOL_KEY,
        GcStructs.GC_POOL_USAGE, EventStructs.EVENT_HEADER, GcStructs.GC_EVENT)) {
      assertMirrors(btf, layout);
    }
    assertEnum(btf, "gc_probe", GcStructs.PROBE_ENUM, "GC_PROBE_COUNT");
    assertEquals(GcStructs.PROBE_ENUM.size(), GcStructs.PROGRAMS.size());
  }

  @Test
  void safepointMirrorsMatchSafepointObject() throws Exception {
    Btf btf = BpfObjectSpec.fromResource("safepoint").btf();
    for (StructLayout layout : List.of(HistStructs.HIST_LAYOUT, HistStructs.HIST, HistStructs.PROBE_STATS,
        HistStructs.PROCESS_FILTER, SafepointStructs.SAFEPOINT_CONFIG, EventStructs.EVENT_HEADER,
        SafepointStructs.SAFEPOINT_EVENT)) {
      assertMirrors(btf, layout);
    }
    assertEnum(btf, "safepoint_probe", SafepointStructs.PROBE_ENUM, "SAFEPOINT_PROBE_COUNT");
    assertEquals(SafepointStructs.PROBE_ENUM.size(), SafepointStructs.PROGRAMS.size());
  }

  @Test
  void allocationMirrorsMatchAllocObject() throws Exception {
    Btf btf = BpfObjectSpec.fromResource("heapalloc").btf();
    for (StructLayout layout : List.of(HistStructs.HIST_LAYOUT, HistStructs.HIST, HistStructs.PROBE_STATS,
        HistStructs.PROCESS_FILTER, AllocationStructs.ALLOC_CONFIG, AllocationStructs.ALLOC_THREAD,
        AllocationStructs.ALLOC_THREAD_NAME, AllocationStructs.ALLOC_ENDED, AllocationStructs.ALLOC_CLASS)) {
      assertMirrors(btf, layout);
    }
    assertEnum(btf, "alloc_probe", AllocationStructs.PROBE_ENUM, "ALLOC_PROBE_COUNT");
    assertEquals(AllocationStructs.PROBE_ENUM.size(), AllocationStructs.PROGRAMS.size());
  }

  @Test
  void nativeAllocationMirrorsMatchNativeObject() throws Exception {
    Btf btf = BpfObjectSpec.fromResource("nativealloc").btf();
    for (StructLayout layout : List.of(HistStructs.HIST_LAYOUT, HistStructs.HIST, HistStructs.PROBE_STATS,
        HistStructs.PROCESS_FILTER, NativeAllocationStructs.NATIVE_CONFIG, NativeAllocationStructs.NATIVE_BLOCK,
        NativeAllocationStructs.NATIVE_OUTSTANDING)) {
      assertMirrors(btf, layout);
    }
    assertEnum(btf, "native_probe", NativeAllocationStructs.PROBE_ENUM, "NATIVE_PROBE_COUNT");
    assertEnum(btf, "native_allocator", NativeAllocationStructs.ALLOCATOR_ENUM, "NATIVE_ALLOCATOR_COUNT");
    assertEquals(NativeAllocationStructs.PROBE_ENUM.size(), NativeAllocationStructs.PROGRAMS.size());
  }

  @Test
  void socketMirrorsMatchSocketObject() throws Exception {
    Btf btf = BpfObjectSpec.fromResource("socket").btf();
    for (StructLayout layout : List.of(HistStructs.HIST_LAYOUT, HistStructs.HIST, HistStructs.PROBE_STATS,
        HistStructs.PROCESS_FILTER, SocketStructs.SOCKET_CONFIG, SocketStructs.SOCKET_PEER,
        SocketStructs.SOCKET_IO_KEY, SocketStructs.SOCKET_IO_HISTS, SocketStructs.SOCKET_CONNECT_KEY,
        EventStructs.EVENT_HEADER, EventStructs.SPAN_PARENT, EventStructs.THREAD_CTX_LOCATION,
        SocketStructs.SOCKET_EVENT)) {
      assertMirrors(btf, layout);
    }
    assertEnum(btf, "socket_probe", SocketStructs.PROBE_ENUM, "SOCKET_PROBE_COUNT");
    assertEnum(btf, "socket_direction", SocketStructs.DIRECTION_ENUM, "SOCKET_DIRECTION_COUNT");
    assertEnum(btf, "socket_transport", SocketStructs.TRANSPORT_ENUM, "SOCKET_TRANSPORT_COUNT");
    assertEquals(SocketStructs.PROBE_ENUM.size(), SocketStructs.FUNCTIONS.size());
    for (int i = 0; i < SocketStructs.FUNCTIONS.size(); i++) {
      assertEquals("uprobe_" + SocketStructs.FUNCTIONS.get(i), SocketStructs.PROBES.get(i));
    }
    assertEquals(SocketStructs.DIRECTION_ENUM.size(), SocketStructs.DIRECTIONS.size());
    assertEquals(SocketStructs.TRANSPORT_ENUM.size(), SocketStructs.TRANSPORTS.size());
  }

  @Test
  void dnsMirrorsMatchDnsObject() throws Exception {
    Btf btf = BpfObjectSpec.fromResource("dns").btf();
    for (StructLayout layout : List.of(HistStructs.HIST_LAYOUT, HistStructs.HIST, HistStructs.PROBE_STATS,
        HistStructs.PROCESS_FILTER, DnsStructs.DNS_CONFIG, DnsStructs.DNS_NAME, DnsStructs.DNS_LOOKUP_KEY,
        EventStructs.EVENT_HEADER, EventStructs.SPAN_PARENT, EventStructs.THREAD_CTX_LOCATION,
        DnsStructs.DNS_EVENT)) {
      assertMirrors(btf, layout);
    }
    assertEnum(btf, "dns_probe", DnsStructs.PROBE_ENUM, "DNS_PROBE_COUNT");
    assertEquals(DnsStructs.PROBE_ENUM.size(), DnsStructs.PROGRAMS.size());
  }

  static void assertMirrors(Btf btf, StructLayout mirror) {
    Btf.Struct struct = btf.struct(mirror.name())
        .orElseThrow(() -> new AssertionError("struct " + mirror.name() + " is not in the object's BTF"));
    assertEquals(struct.size(), mirror.size(), "sizeof(struct " + mirror.name() + ")");
    List<String> cNames = new ArrayList<>();
    struct.members().forEach(m -> cNames.add(m.name()));
    assertEquals(cNames, mirror.memberNames(), "members of struct " + mirror.name());
    for (Btf.Member member : struct.members()) {
      StructLayout.Member ours = mirror.member(member.name());
      assertEquals(member.offset(), ours.offset(), mirror.name() + "." + member.name() + " offset");
      assertEquals(member.size(), ours.size(), mirror.name() + "." + member.name() + " size");
    }
  }

  private static void assertEnum(Btf btf, String name, List<String> mirror, String countName) {
    Map<String, Long> values = btf.enumeration(name)
        .orElseThrow(() -> new AssertionError("enum " + name + " is not in the object's BTF"));
    for (int i = 0; i < mirror.size(); i++) {
      assertEquals((long) i, values.get(mirror.get(i)), name + " value of " + mirror.get(i));
    }
    assertEquals((long) mirror.size(), values.get(countName), countName);
  }
}
