package dev.jvmebpf.bpf.process;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/** Listening ports from /proc against the ports of listeners this test opens itself. */
class ProcessSocketsTest {

  @Test
  void listenersOfThisProcessAndNotTheirConnections() throws Exception {
    try (ServerSocket v4 = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
         ServerSocket any = new ServerSocket(0);
         Socket client = new Socket(InetAddress.getByName("127.0.0.1"), v4.getLocalPort());
         Socket accepted = v4.accept()) {
      var ports = ProcessSockets.listeningTcpPorts();
      assertTrue(ports.contains(v4.getLocalPort()) && ports.contains(any.getLocalPort()), ports.toString());
      assertFalse(ports.contains(client.getLocalPort()), "a client's own port is not a listener: " + ports);
    }
  }
}
