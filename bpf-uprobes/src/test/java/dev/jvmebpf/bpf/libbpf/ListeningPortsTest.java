package dev.jvmebpf.bpf.libbpf;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.Test;

/**
 * Listening ports from this process's own descriptors against the ports of listeners this test
 * opens itself (IPv4, any address, a channel), and not the ports of their connections. Needs the
 * bundled library only, no privileges.
 */
class ListeningPortsTest {

  @Test
  void listenersOfThisProcessAndNotTheirConnections() throws Exception {
    Libbpf libbpf = Libbpf.load(null);
    try (ServerSocket v4 = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
         ServerSocket any = new ServerSocket(0);
         ServerSocketChannel channel = ServerSocketChannel.open().bind(new InetSocketAddress(0));
         Socket client = new Socket(InetAddress.getByName("127.0.0.1"), v4.getLocalPort());
         Socket accepted = v4.accept()) {
      var ports = libbpf.listeningTcpPorts();
      int channelPort = ((InetSocketAddress) channel.getLocalAddress()).getPort();
      assertTrue(ports.contains(v4.getLocalPort()) && ports.contains(any.getLocalPort()) && ports.contains(channelPort),
          ports.toString());
      assertFalse(ports.contains(client.getLocalPort()), "a client's own port is not a listener: " + ports);
    }
  }
}
