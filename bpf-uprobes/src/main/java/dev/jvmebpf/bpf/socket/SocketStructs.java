package dev.jvmebpf.bpf.socket;

import dev.jvmebpf.bpf.btf.StructLayout;
import dev.jvmebpf.bpf.hist.HistStructs;
import java.util.List;

/** Java mirror of socket.h, checked against socket.bpf.o's BTF by KernelLayoutTest. */
public final class SocketStructs {

  /** SOCKET_ERROR_UNKNOWN: a failed call whose errno could not be read. */
  public static final int ERROR_UNKNOWN = 4095;

  /**
   * enum socket_probe, in order: the probed libc functions, each attached with its index as
   * cookie; and the names their counts are exported under (attribute {@code probe}).
   */
  public static final List<String> PROBE_ENUM = List.of("SOCKET_PROBE_READ", "SOCKET_PROBE_READV",
      "SOCKET_PROBE_RECV", "SOCKET_PROBE_RECVFROM", "SOCKET_PROBE_RECVMSG", "SOCKET_PROBE_WRITE",
      "SOCKET_PROBE_WRITEV", "SOCKET_PROBE_SEND", "SOCKET_PROBE_SENDTO", "SOCKET_PROBE_SENDMSG",
      "SOCKET_PROBE_SENDFILE", "SOCKET_PROBE_CONNECT", "SOCKET_PROBE_GETSOCKOPT", "SOCKET_PROBE_GETADDRINFO",
      "SOCKET_PROBE_LISTEN");
  public static final List<String> FUNCTIONS = List.of("read", "readv", "recv", "recvfrom", "recvmsg", "write",
      "writev", "send", "sendto", "sendmsg", "sendfile", "connect", "getsockopt", "getaddrinfo", "listen");
  public static final List<String> PROBES = List.of("uprobe_read", "uprobe_readv", "uprobe_recv", "uprobe_recvfrom",
      "uprobe_recvmsg", "uprobe_write", "uprobe_writev", "uprobe_send", "uprobe_sendto", "uprobe_sendmsg",
      "uprobe_sendfile", "uprobe_connect", "uprobe_getsockopt", "uprobe_getaddrinfo", "uprobe_listen");

  /** enum socket_direction, in order, and its network.io.direction values. */
  public static final List<String> DIRECTION_ENUM = List.of("SOCKET_DIRECTION_RECEIVE", "SOCKET_DIRECTION_TRANSMIT");
  public static final List<String> DIRECTIONS = List.of("receive", "transmit");

  /** enum socket_transport, in order, and its network.transport values. */
  public static final List<String> TRANSPORT_ENUM = List.of("SOCKET_TRANSPORT_TCP", "SOCKET_TRANSPORT_UDP",
      "SOCKET_TRANSPORT_UNIX", "SOCKET_TRANSPORT_OTHER");
  public static final List<String> TRANSPORTS = List.of("tcp", "udp", "unix", "other");

  public static final StructLayout SOCKET_CONFIG = StructLayout.struct("socket_config")
      .struct("process", HistStructs.PROCESS_FILTER)
      .struct("duration_ns", HistStructs.HIST_LAYOUT)
      .struct("size_bytes", HistStructs.HIST_LAYOUT)
      .s64("errno_tp_offset")
      .u32("errno_known")
      .u32("pad")
      .u64("span_io_min_ns")
      .u64("span_connect_min_ns")
      .build();

  public static final StructLayout SOCKET_PEER = StructLayout.struct("socket_peer")
      .u8Array("address", 16)
      .u16("port")
      .u8("transport")
      .u8("other")
      .u32("pad")
      .build();

  public static final StructLayout SOCKET_IO_KEY = StructLayout.struct("socket_io_key")
      .struct("peer", SOCKET_PEER)
      .u32("direction")
      .u32("error")
      .build();

  public static final StructLayout SOCKET_IO_HISTS = StructLayout.struct("socket_io_hists")
      .struct("duration", HistStructs.HIST)
      .struct("size", HistStructs.HIST)
      .build();

  public static final StructLayout SOCKET_CONNECT_KEY = StructLayout.struct("socket_connect_key")
      .struct("peer", SOCKET_PEER)
      .u32("error")
      .u32("pad")
      .build();

  /** enum socket_event_kind. */
  public static final int EVENT_IO = 1;
  public static final int EVENT_CONNECT = 2;

  public static final StructLayout SOCKET_EVENT = StructLayout.struct("socket_event")
      .struct("header", dev.jvmebpf.bpf.events.EventStructs.EVENT_HEADER)
      .struct("peer", SOCKET_PEER)
      .u32("direction")
      .u32("error")
      .s64("bytes")
      .build();

  private SocketStructs() {}
}
