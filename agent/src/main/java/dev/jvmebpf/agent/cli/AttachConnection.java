package dev.jvmebpf.agent.cli;

import dev.jvmebpf.bpf.libbpf.Libbpf;
import java.io.File;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import net.bytebuddy.agent.VirtualMachine;

/**
 * HotSpot's attach protocol through Byte Buddy, on the JDK's own Unix domain sockets: no
 * {@code jdk.attach} module and no JNA needed on our side. Byte Buddy creates the attach file and
 * waits for the target's socket; we send the SIGQUIT that wakes the target's attach listener and
 * carry the bytes.
 */
final class AttachConnection {

  /** How long the target's attach listener may take to answer: 100 x 100 ms. */
  static final int ATTEMPTS = 100;
  static final long PAUSE_MILLIS = 100;

  private AttachConnection() {}

  static VirtualMachine open(long pid, Libbpf libbpf) throws IOException {
    return VirtualMachine.ForHotSpot.attach(Long.toString(pid), new Factory(libbpf));
  }

  private static final class Factory extends VirtualMachine.ForHotSpot.Connection.Factory.ForSocketFile {
    private final Libbpf libbpf;

    Factory(Libbpf libbpf) {
      super("/tmp", ATTEMPTS, PAUSE_MILLIS, TimeUnit.MILLISECONDS);
      this.libbpf = libbpf;
    }

    @Override
    protected void kill(String processId, int signal) {
      int errno = libbpf.signal(Long.parseLong(processId), signal);
      if (errno != 0) {
        throw new IllegalStateException("cannot signal process " + processId + ": " + libbpf.describe(errno));
      }
    }

    @Override
    protected VirtualMachine.ForHotSpot.Connection doConnect(File socket) {
      return new Socket(socket.toPath());
    }
  }

  /** One request per connection, as the protocol has it. */
  private static final class Socket extends VirtualMachine.ForHotSpot.Connection.OnPersistentByteChannel<SocketChannel> {
    private final Path path;

    Socket(Path path) {
      this.path = path;
    }

    @Override
    protected SocketChannel connect() throws IOException {
      SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        channel.connect(UnixDomainSocketAddress.of(path));
        return channel;
      } catch (IOException e) {
        channel.close();
        throw new IOException("connect to " + path + ": " + e.getMessage(), e);
      }
    }

    @Override
    protected void close(SocketChannel channel) throws IOException {
      channel.close();
    }

    @Override
    protected void write(SocketChannel channel, byte[] bytes) throws IOException {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
    }

    @Override
    protected int read(SocketChannel channel, byte[] bytes) throws IOException {
      return channel.read(ByteBuffer.wrap(bytes));
    }

    @Override
    public void close() {
      // Each request opened and closed its own channel.
    }
  }
}
