package dev.jvmebpf.bpf.heapalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * Real BPF on this test JVM: heap allocation seen by the AllocTracer probes against the JVM's
 * own per-thread allocation counter and against arrays whose sizes the test knows.
 */
class AllocationProbesTest {

  static volatile Object sink;

  @Test
  void threadBytesMatchThreadMxBeanAndLargeArraysAreNamed() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    HistogramLayout bytes = HistogramLayout.create(3, 1);
    try (AllocationProbes probes = AllocationProbes.attach(libbpf, JvmProcess.current(), bytes, 64)) {
      assertEquals(List.of(), probes.limitations());

      // Threads with names longer than the kernel's 15 bytes: the Java name must come through.
      Map<String, Long> allocatedByThread = new ConcurrentHashMap<>();
      List<Thread> threads = new ArrayList<>();
      CountDownLatch measured = new CountDownLatch(3);
      CountDownLatch release = new CountDownLatch(1);
      long[] perThread = {80L << 20, 100L << 20, 130L << 20};
      for (int i = 0; i < perThread.length; i++) {
        long target = perThread[i];
        Thread t = new Thread(() -> {
          com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
          long start = mx.getCurrentThreadAllocatedBytes();
          while (mx.getCurrentThreadAllocatedBytes() - start < target) {
            for (int k = 0; k < 1000; k++) {
              sink = new byte[64 + (k & 255)];
            }
          }
          allocatedByThread.put(Thread.currentThread().getName(), mx.getCurrentThreadAllocatedBytes());
          measured.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }, "allocation-probe-worker-" + i);
        threads.add(t);
        t.start();
      }
      measured.await();

      int arrays = 20;
      for (int i = 0; i < arrays; i++) {
        sink = new byte[4 << 20];
        sink = new long[512 << 10];
      }
      AllocationSnapshot snapshot = probes.snapshot();

      System.out.println("DEBUG " + snapshot.threads() + " " + snapshot.probes() + " " + snapshot.tlabSizes());
      for (Map.Entry<String, Long> e : allocatedByThread.entrySet()) {
        long ours = snapshot.threads().stream().filter(t -> t.threadName().equals(e.getKey()))
            .mapToLong(AllocationSnapshot.ThreadAllocation::bytes).sum();
        double error = (ours - e.getValue()) / (double) e.getValue();
        assertTrue(Math.abs(error) <= 0.10, e.getKey() + ": probes " + ours + " bytes, ThreadMXBean "
            + e.getValue() + " (" + String.format("%+.2f%%", 100 * error) + ")");
      }

      long arrayBytes = arrayObjectSize(byte[].class, 4 << 20);
      long longArrayBytes = arrayObjectSize(long[].class, 512 << 10);
      assertOutside(snapshot, "byte[]", arrayBytes, arrays);
      assertOutside(snapshot, "long[]", longArrayBytes, arrays);
      assertTrue(snapshot.tlabSizes().count() > 0, "new TLABs were seen: " + snapshot.tlabSizes());
    }
  }

  private static long threadBytes(AllocationSnapshot snapshot, String name) {
    return snapshot.threads().stream().filter(t -> t.threadName().equals(name))
        .mapToLong(AllocationSnapshot.ThreadAllocation::bytes).sum();
  }

  private static void assertThreadBytes(AllocationSnapshot snapshot, Map<String, Long> allocatedByThread) {
    assertEquals(3, allocatedByThread.size());
    for (Map.Entry<String, Long> e : allocatedByThread.entrySet()) {
      long ours = threadBytes(snapshot, e.getKey());
      double error = (ours - e.getValue()) / (double) e.getValue();
      assertTrue(Math.abs(error) <= 0.10, e.getKey() + ": probes " + ours + " bytes, ThreadMXBean "
          + e.getValue() + " (" + String.format("%+.2f%%", 100 * error) + "); threads " + snapshot.threads());
    }
  }

  private static void assertOutside(AllocationSnapshot snapshot, String className, long size, int atLeast) {
    AllocationSnapshot.ClassAllocation c = snapshot.classes().stream().filter(x -> x.className().equals(className))
        .findFirst().orElseThrow(() -> new AssertionError("no class " + className + " in " + snapshot.classes()));
    HistogramSnapshot sizes = c.outsideTlabSizes();
    long inBucket = sizes.bucketCount(sizes.layout().bucketOf(size));
    assertTrue(inBucket >= atLeast, className + ": " + inBucket + " outside-TLAB allocations in the bucket of "
        + size + " bytes, expected at least " + atLeast + "; " + sizes);
    assertTrue(sizes.min() <= size && size <= sizes.max(), className + " sizes " + sizes + " exclude " + size);
    assertTrue(c.outsideTlabBytes() >= (long) atLeast * size, className + " outside-TLAB bytes " + c.outsideTlabBytes());
  }

  /** An array object's size in the heap, from the JVM's own array base offset, 8-byte aligned. */
  private static long arrayObjectSize(Class<?> arrayClass, int length) throws Exception {
    Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
    f.setAccessible(true);
    Object unsafe = f.get(null);
    int base = (int) unsafe.getClass().getMethod("arrayBaseOffset", Class.class).invoke(unsafe, arrayClass);
    int scale = (int) unsafe.getClass().getMethod("arrayIndexScale", Class.class).invoke(unsafe, arrayClass);
    return (base + (long) scale * length + 7) & ~7L;
  }
}
