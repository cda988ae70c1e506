package dev.jvmebpf.it.workload;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * Runs in the target JVM with the agent: UDP exchanges with the test's echo servers, through an
 * unconnected {@code DatagramSocket} (send to the server, receive its echo) and a connected
 * {@code DatagramChannel} (write, read). Reports what it did by its own count:
 *
 * <pre>
 * AGENT &lt;status&gt;
 * UDP &lt;client&gt;\t&lt;datagrams sent&gt; &lt;datagrams received&gt; &lt;bytes sent&gt; &lt;bytes received&gt;
 * </pre>
 *
 * args: exchanges socketEchoPort channelEchoPort
 */
public final class DatagramWorkload {

  static final int SOCKET_DATAGRAM = 32;
  static final int CHANNEL_DATAGRAM = 48;

  public static void main(String[] args) throws Exception {
    System.out.println("AGENT " + Agent.awaitStatus());
    int exchanges = Integer.parseInt(args[0]);
    InetAddress loopback = InetAddress.getLoopbackAddress();
    long[] socket = new long[4];
    try (DatagramSocket s = new DatagramSocket(0, loopback)) {
      InetSocketAddress server = new InetSocketAddress(loopback, Integer.parseInt(args[1]));
      byte[] reply = new byte[1024];
      for (int i = 0; i < exchanges; i++) {
        s.send(new DatagramPacket(new byte[SOCKET_DATAGRAM], SOCKET_DATAGRAM, server));
        socket[0]++;
        socket[2] += SOCKET_DATAGRAM;
        DatagramPacket in = new DatagramPacket(reply, reply.length);
        s.receive(in);
        socket[1]++;
        socket[3] += in.getLength();
      }
    }
    report("socket", socket);
    long[] channel = new long[4];
    try (DatagramChannel ch = DatagramChannel.open()) {
      ch.bind(new InetSocketAddress(loopback, 0));
      ch.connect(new InetSocketAddress(loopback, Integer.parseInt(args[2])));
      for (int i = 0; i < exchanges; i++) {
        channel[2] += ch.write(ByteBuffer.allocate(CHANNEL_DATAGRAM));
        channel[0]++;
        ByteBuffer in = ByteBuffer.allocate(1024);
        channel[3] += ch.read(in);
        channel[1]++;
      }
    }
    report("channel", channel);
  }

  private static void report(String client, long[] counts) {
    System.out.println("UDP " + client + "\t" + counts[0] + " " + counts[1] + " " + counts[2] + " " + counts[3]);
  }
}
