package dev.jvmebpf.bpf.socket;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The other end of a socket as the probes recorded it.
 *
 * @param address the peer's IP address as text (IPv4 dotted, also for IPv4-mapped IPv6; IPv6 in
 *     RFC 5952 form), empty when there is none (UNIX sockets, unconnected sockets)
 * @param port the peer's port, 0 when there is none
 * @param transport "tcp", "udp", "unix" or "other"
 * @param other whether this is the overflow value that peers beyond the bound count under
 */
public record SocketPeer(String address, int port, String transport, boolean other) {

  /** The overflow peer. */
  public static final SocketPeer OTHER = new SocketPeer("", 0, "", true);

  /** Decodes a {@code struct socket_peer} at {@code offset} of {@code key}. */
  static SocketPeer decode(byte[] key, int offset) {
    ByteBuffer in = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN);
    if (in.get(offset + SocketStructs.SOCKET_PEER.offset("other")) != 0) {
      return OTHER;
    }
    byte[] address = new byte[16];
    in.get(offset + SocketStructs.SOCKET_PEER.offset("address"), address);
    int port = Short.toUnsignedInt(in.getShort(offset + SocketStructs.SOCKET_PEER.offset("port")));
    int transport = Byte.toUnsignedInt(in.get(offset + SocketStructs.SOCKET_PEER.offset("transport")));
    List<String> transports = SocketStructs.TRANSPORTS;
    return new SocketPeer(format(address), port, transport < transports.size() ? transports.get(transport) : "other",
        false);
  }

  /**
   * A peer as the JDK's own socket objects name it (the agent's timing point), in the text form
   * of {@link #decode}: an IPv4 address as the kernel's IPv4-mapped one. A null address: none.
   */
  public static SocketPeer of(java.net.InetAddress address, int port, String transport) {
    byte[] mapped = new byte[16];
    if (address != null) {
      byte[] raw = address.getAddress();
      if (raw.length == 4) {
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(raw, 0, mapped, 12, 4);
      } else {
        System.arraycopy(raw, 0, mapped, 0, Math.min(16, raw.length));
      }
    }
    return new SocketPeer(format(mapped), port, transport, false);
  }

  /** IPv4 (from IPv4-mapped IPv6) dotted, IPv6 in RFC 5952 form, "" for the all-zero address. */
  static String format(byte[] address) {
    boolean zero = true;
    for (byte b : address) {
      zero &= b == 0;
    }
    if (zero) {
      return "";
    }
    boolean mapped = true;
    for (int i = 0; i < 10; i++) {
      mapped &= address[i] == 0;
    }
    mapped &= address[10] == (byte) 0xff && address[11] == (byte) 0xff;
    if (mapped) {
      return (address[12] & 0xff) + "." + (address[13] & 0xff) + "." + (address[14] & 0xff) + "." + (address[15] & 0xff);
    }
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = (address[2 * i] & 0xff) << 8 | (address[2 * i + 1] & 0xff);
    }
    // The longest run of two or more zero groups (the first of equal ones) becomes "::".
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLength - 1;
        continue;
      }
      if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(groups[i]));
    }
    return out.toString();
  }
}
