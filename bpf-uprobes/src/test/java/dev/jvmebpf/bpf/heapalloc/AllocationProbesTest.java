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
import java.util.concurrent.atomic.AtomicLong;
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

  /**
   * 10,000 threads of one name that each allocate a few kilobytes and end: their series is the
   * sum of what ThreadMXBean said for each of them just before its end, although each took a
   * whole TLAB (hundreds of kilobytes) for it, and although more of them ended than the kernel
   * keeps live threads.
   */
  @Test
  void shortLivedThreadsCountWhatTheyUsedNotTheirTlabs() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    HistogramLayout bytes = HistogramLayout.create(3, 1);
    int threads = 10_000;
    int atOnce = 8;
    String name = "short-lived-allocation-probe-worker";
    try (AllocationProbes probes = AllocationProbes.attach(libbpf, JvmProcess.current(), bytes, 64)) {
      AtomicLong oracle = new AtomicLong();
      long tlabsBefore = probes.snapshot().tlabSizes().count();
      for (int started = 0; started < threads; started += atOnce) {
        List<Thread> batch = new ArrayList<>();
        for (int i = started; i < Math.min(threads, started + atOnce); i++) {
          int objects = 16 + i % 64;
          Thread t = new Thread(() -> {
            for (int k = 0; k < objects; k++) {
              sink = new byte[32 + 8 * (k % 16)];
            }
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            oracle.addAndGet(mx.getCurrentThreadAllocatedBytes());
          }, name);
          batch.add(t);
          t.start();
        }
        for (Thread t : batch) {
          t.join();
        }
      }
      AllocationSnapshot snapshot = probes.snapshot();
      long ours = threadBytes(snapshot, name);
      long tlabs = snapshot.tlabSizes().count() - tlabsBefore;
      double error = (ours - oracle.get()) / (double) oracle.get();
      System.out.printf("%d short-lived threads: jvm.allocation.bytes %d, ThreadMXBean %d (%+.2f%%); %d new TLABs "
          + "taken meanwhile, %.0f bytes each on average%n", threads, ours, oracle.get(), 100 * error, tlabs,
          snapshot.tlabSizes().sum() / (double) snapshot.tlabSizes().count());
      assertTrue(tlabs >= threads, "each thread took a TLAB: " + tlabs);
      assertTrue(Math.abs(error) <= 0.10, name + ": probes " + ours + " bytes, ThreadMXBean " + oracle.get() + " ("
          + String.format("%+.2f%%", 100 * error) + "); threads " + snapshot.threads() + "; " + snapshot.probes());
    }
  }

  /**
   * A name longer than the kernel keeps (63 bytes of UTF-8, the last character cut in two): a
   * thread of that name that ended (named by the kernel from thread__stop) and one still alive
   * (named from its Thread) share one series, holding what ThreadMXBean said for both (the live
   * one's last TLAB aside: 64 MiB each, so that a TLAB of a few MiB stays well within 10%).
   */
  @Test
  void aLongNameIsOneSeriesWhetherItsThreadEndedOrLives() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    String name = "allocation-probe-worker-whose-name-is-longer-than-the-kernel-k\u00e9\u00e9\u00e9";
    byte[] utf8 = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    String kept = new String(utf8, 0, AllocationStructs.THREAD_NAME_LEN - 1, java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(utf8.length > AllocationStructs.THREAD_NAME_LEN && !name.startsWith(kept), kept);
    try (AllocationProbes probes = AllocationProbes.attach(libbpf, JvmProcess.current(), HistogramLayout.create(3, 1),
        64)) {
      AtomicLong oracle = new AtomicLong();
      CountDownLatch measured = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      Runnable work = () -> {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        while (mx.getCurrentThreadAllocatedBytes() < (64L << 20)) {
          sink = new Object[8];
        }
        oracle.addAndGet(mx.getCurrentThreadAllocatedBytes());
      };
      Thread ended = new Thread(work, name);
      ended.start();
      ended.join();
      Thread live = new Thread(() -> {
        work.run();
        measured.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, name);
      live.start();
      measured.await();
      try {
        AllocationSnapshot snapshot = probes.snapshot();
        long ours = threadBytes(snapshot, kept);
        double error = (ours - oracle.get()) / (double) oracle.get();
        assertTrue(Math.abs(error) <= 0.10, kept + ": probes " + ours + " bytes, ThreadMXBean " + oracle.get()
            + "; threads " + snapshot.threads());
        assertTrue(snapshot.threads().stream().noneMatch(t -> t.threadName().startsWith("allocation-probe-worker-whose")
            && !t.threadName().equals(kept)), "one series for the name: " + snapshot.threads());
      } finally {
        release.countDown();
        live.join();
      }
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
