package dev.jvmebpf.bpf.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Address text against the JDK's own parser (which reads it back) and RFC 5952's examples. */
class SocketPeerTest {

  @Test
  void ipv4MappedAddressesReadAsIpv4() throws Exception {
    byte[] mapped = InetAddress.getByName("::ffff:10.1.2.80").getAddress();
    // The JDK hands back an IPv4 address for a mapped literal; the kernel keeps 16 bytes.
    byte[] sixteen = new byte[16];
    sixteen[10] = (byte) 0xff;
    sixteen[11] = (byte) 0xff;
    System.arraycopy(mapped, 0, sixteen, 12, 4);
    assertEquals("10.1.2.80", SocketPeer.format(sixteen));
    assertEquals("", SocketPeer.format(new byte[16]));
  }

  @Test
  void ipv6InRfc5952Form() throws Exception {
    assertEquals("::1", SocketPeer.format(InetAddress.getByName("::1").getAddress()));
    assertEquals("2001:db8::1", SocketPeer.format(InetAddress.getByName("2001:db8:0:0:0:0:0:1").getAddress()));
    // The first of two equally long runs; a single zero group stays.
    assertEquals("2001:db8::1:0:0:1", SocketPeer.format(InetAddress.getByName("2001:db8:0:0:1:0:0:1").getAddress()));
    assertEquals("2001:db8:0:1:1:1:1:1", SocketPeer.format(InetAddress.getByName("2001:db8:0:1:1:1:1:1")
        .getAddress()));
    Random random = new Random(42);
    for (int i = 0; i < 10_000; i++) {
      byte[] address = new byte[16];
      for (int g = 0; g < 8; g++) {
        if (random.nextInt(3) > 0) {
          address[2 * g] = (byte) random.nextInt(256);
          address[2 * g + 1] = (byte) random.nextInt(256);
        }
      }
      address[0] |= 0x20; // not IPv4-mapped, not all zero
      String text = SocketPeer.format(address);
      assertArrayEquals(address, InetAddress.getByName(text).getAddress(), text);
    }
  }
}
