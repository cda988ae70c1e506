package dev.jvmebpf.bpf.dns;

import dev.jvmebpf.bpf.btf.StructLayout;
import dev.jvmebpf.bpf.hist.HistStructs;
import java.util.List;

/** Java mirror of dns.h, checked against dns.bpf.o's BTF by KernelLayoutTest. */
public final class DnsStructs {

  /** DNS_NAME_MAX: bytes of a queried name kept. */
  public static final int NAME_MAX = 64;

  /** enum dns_probe, in order, and the programs it counts. */
  public static final List<String> PROBE_ENUM = List.of("DNS_PROBE_GETADDRINFO", "DNS_PROBE_GETADDRINFO_RETURN");
  public static final List<String> PROGRAMS = List.of("uprobe_getaddrinfo", "uretprobe_getaddrinfo");

  public static final StructLayout DNS_CONFIG = StructLayout.struct("dns_config")
      .struct("process", HistStructs.PROCESS_FILTER)
      .u64("span_min_ns")
      .struct("duration_ns", HistStructs.HIST_LAYOUT)
      .build();

  public static final StructLayout DNS_NAME = StructLayout.struct("dns_name")
      .chars("name", NAME_MAX)
      .u32("truncated")
      .u32("other")
      .build();

  public static final StructLayout DNS_LOOKUP_KEY = StructLayout.struct("dns_lookup_key")
      .struct("name", DNS_NAME)
      .s32("result")
      .u32("pad")
      .build();

  public static final StructLayout DNS_EVENT = StructLayout.struct("dns_event")
      .struct("header", dev.jvmebpf.bpf.events.EventStructs.EVENT_HEADER)
      .struct("name", DNS_NAME)
      .s32("result")
      .u32("pad")
      .build();

  private DnsStructs() {}
}
