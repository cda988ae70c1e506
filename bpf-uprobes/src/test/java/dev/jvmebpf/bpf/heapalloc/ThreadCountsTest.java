package dev.jvmebpf.bpf.heapalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.process.JvmProcess;
import dev.jvmebpf.bpf.process.ProcessMemory;
import dev.jvmebpf.bpf.process.VmStructs;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * A live thread's count read from its JavaThread against ThreadMXBean's for the same thread:
 * parked, its count stands still, so the two must be equal to the byte, however much of its
 * current TLAB it used.
 */
class ThreadCountsTest {

  static volatile Object sink;

  @Test
  void aParkedThreadsCountIsThreadMxBeans() throws Exception {
    long[] offsets = AllocationProbes.threadOffsets(VmStructs.of(JvmProcess.current(), AllocationProbes.STRUCT_TYPES));
    Field eetop = Thread.class.getDeclaredField("eetop");
    eetop.setAccessible(true);
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    CountDownLatch allocated = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread t = new Thread(() -> {
      for (int i = 0; i < 300_000; i++) {
        sink = new byte[24 + (i & 127)];
      }
      allocated.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "thread-counts-test");
    t.start();
    try (ThreadCounts counts = new ThreadCounts(ProcessMemory.self(), offsets)) {
      allocated.await();
      while (t.getState() != Thread.State.WAITING) {
        Thread.sleep(1);
      }
      long ours = counts.read(eetop.getLong(t));
      long jvm = mx.getThreadAllocatedBytes(t.getId());
      assertTrue(jvm > 300_000L * 24, "ThreadMXBean says " + jvm);
      assertEquals(jvm, ours, "bytes of a parked thread");
    } finally {
      release.countDown();
      t.join();
    }
  }

  @Test
  void anUnreadableThreadCountsNothing() throws Exception {
    long[] offsets = AllocationProbes.threadOffsets(VmStructs.of(JvmProcess.current(), AllocationProbes.STRUCT_TYPES));
    try (ThreadCounts counts = new ThreadCounts(ProcessMemory.self(), offsets)) {
      // The first page is never mapped: /proc/self/mem fails there instead of crashing.
      assertEquals(0, counts.read(8));
    }
  }
}
