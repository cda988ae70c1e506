package dev.jvmebpf.bpf.heapalloc;

import dev.jvmebpf.bpf.process.ProcessMemory;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * HotSpot's count of a live thread's allocated bytes, read from user space the way ThreadMXBean
 * reads another thread's: {@code Thread::_allocated_bytes} plus the used part of its current
 * TLAB ({@code _top - _start}), at the offsets of this JVM's VMStructs table. The thread runs
 * on meanwhile, so the fields are read twice: a TLAB retired between the reads (the count grows,
 * the TLAB moves) makes the figure unknown for this read rather than a TLAB off.
 */
final class ThreadCounts implements AutoCloseable {

  /** Larger than any TLAB: a used part beyond it is a torn read, not a count. */
  private static final long MAX_TLAB_BYTES = 1L << 32;

  private final ProcessMemory memory;
  private final int allocated;
  private final int start;
  private final int top;
  private final long base;
  private final int length;

  /** @param offsets of Thread::_allocated_bytes, of its TLAB's _start and _top (threadOffsets) */
  ThreadCounts(ProcessMemory memory, long[] offsets) {
    this.memory = memory;
    this.base = Math.min(offsets[0], Math.min(offsets[1], offsets[2]));
    long end = Math.max(offsets[0], Math.max(offsets[1], offsets[2])) + Long.BYTES;
    this.length = (int) (end - base);
    this.allocated = (int) (offsets[0] - base);
    this.start = (int) (offsets[1] - base);
    this.top = (int) (offsets[2] - base);
  }

  /** The count of the thread at {@code javaThread} now, or 0 when unreadable or changing. */
  long read(long javaThread) {
    try {
      ByteBuffer first = memory.read(javaThread + base, length);
      ByteBuffer second = memory.read(javaThread + base, length);
      long bytes = second.getLong(allocated);
      long tlabStart = second.getLong(start);
      if (first.getLong(allocated) != bytes || first.getLong(start) != tlabStart || bytes < 0) {
        return 0;
      }
      long used = second.getLong(top) - tlabStart;
      return bytes + (used > 0 && used < MAX_TLAB_BYTES ? used : 0);
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public void close() throws IOException {
    memory.close();
  }
}
