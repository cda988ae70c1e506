package dev.jvmebpf.bpf.process;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a process's memory through /proc/&lt;pid&gt;/mem. A bad address fails with an
 * IOException (EIO) instead of a crash, which is why we read our own process this way rather
 * than through a raw pointer.
 */
public final class ProcessMemory implements AutoCloseable {

  private final FileChannel channel;

  private ProcessMemory(FileChannel channel) {
    this.channel = channel;
  }

  public static ProcessMemory self() throws IOException {
    return new ProcessMemory(FileChannel.open(Path.of("/proc/self/mem"), StandardOpenOption.READ));
  }

  public ByteBuffer read(long address, int length) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, address + buffer.position());
      if (n <= 0) {
        throw new IOException("cannot read " + length + " bytes at 0x" + Long.toHexString(address));
      }
    }
    return buffer.flip();
  }

  public long readLong(long address) throws IOException {
    return read(address, 8).getLong();
  }

  /** A NUL-terminated string of at most {@code maxLength} bytes. */
  public String readString(long address, int maxLength) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(maxLength);
    int n = channel.read(buffer, address);
    if (n <= 0) {
      throw new IOException("cannot read a string at 0x" + Long.toHexString(address));
    }
    byte[] bytes = buffer.array();
    int end = 0;
    while (end < n && bytes[end] != 0) {
      end++;
    }
    return new String(bytes, 0, end, StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
