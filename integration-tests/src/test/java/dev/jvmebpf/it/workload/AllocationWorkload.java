package dev.jvmebpf.it.workload;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.util.concurrent.CountDownLatch;

/**
 * Runs in the target JVM. Once the agent has reported its state, short-lived threads of one
 * name each allocate a few kilobytes and end, threads with names longer than the kernel's 15
 * bytes allocate known amounts of small objects, then the main thread allocates N arrays of
 * 4 MiB of each of byte[] and long[]. Prints what the JVM itself says:
 *
 * <pre>
 * AGENT &lt;status&gt;
 * SHORT &lt;name&gt;\t&lt;sum over the short-lived threads of ThreadMXBean.getThreadAllocatedBytes at their end&gt;
 * THREAD &lt;name&gt;\t&lt;ThreadMXBean.getThreadAllocatedBytes at its end&gt;
 * ARRAY &lt;class&gt;\t&lt;size of one array object in bytes&gt;
 * </pre>
 *
 * The worker threads stay alive (parked) until the JVM exits, so they are live when the agent
 * exports at exit. args: arrays [megabytes per worker, comma-separated] [short-lived threads].
 */
public final class AllocationWorkload {

  static volatile Object sink;

  public static void main(String[] args) throws Exception {
    int arrays = Integer.parseInt(args[0]);
    String[] megabytes = (args.length > 1 ? args[1] : "80,112").split(",");
    int shortLived = args.length > 2 ? Integer.parseInt(args[2]) : 0;
    System.out.println("AGENT " + Agent.awaitStatus());
    if (shortLived > 0) {
      System.out.println("SHORT " + SHORT_NAME + "\t" + shortLivedThreads(shortLived));
    }

    CountDownLatch done = new CountDownLatch(megabytes.length);
    for (int i = 0; i < megabytes.length; i++) {
      long target = Long.parseLong(megabytes[i]) << 20;
      Thread t = new Thread(() -> {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long start = mx.getCurrentThreadAllocatedBytes();
        while (mx.getCurrentThreadAllocatedBytes() - start < target) {
          for (int k = 0; k < 1000; k++) {
            sink = new Object[4 + (k & 31)];
          }
        }
        System.out.println("THREAD " + Thread.currentThread().getName() + "\t" + mx.getCurrentThreadAllocatedBytes());
        done.countDown();
        while (true) {
          try {
            Thread.sleep(Long.MAX_VALUE);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "allocation-worker-" + i + "-of-the-test");
      t.setDaemon(true);
      t.start();
    }
    done.await();

    // HotSpot puts a large array into a fresh TLAB, not outside, when the thread's TLAB is
    // nearly full (Parallel has no TLAB size limit; G1's humongous objects never go there).
    // After a collection every TLAB is empty, so one priming array of another size takes the
    // fresh TLAB; with no collection during the loop (the caller sizes the young generation),
    // every array of the loop then goes outside.
    System.gc();
    sink = new byte[3 << 20];
    for (int i = 0; i < arrays; i++) {
      sink = new byte[4 << 20];
      sink = new long[512 << 10];
    }
    System.out.println("ARRAY byte[]\t" + arrayObjectSize(byte[].class, 4 << 20));
    System.out.println("ARRAY long[]\t" + arrayObjectSize(long[].class, 512 << 10));
  }

  static final String SHORT_NAME = "short-lived-allocation-worker";

  /**
   * {@code count} threads named {@link #SHORT_NAME}, eight at a time, each allocating 16 to 79
   * small arrays (about 1-10 KB; each still takes a whole new TLAB); the sum of what
   * ThreadMXBean says each of them allocated, read by the thread itself as its last act.
   */
  static long shortLivedThreads(int count) throws InterruptedException {
    java.util.concurrent.atomic.AtomicLong allocated = new java.util.concurrent.atomic.AtomicLong();
    for (int started = 0; started < count; started += 8) {
      Thread[] batch = new Thread[Math.min(8, count - started)];
      for (int i = 0; i < batch.length; i++) {
        int objects = 16 + (started + i) % 64;
        batch[i] = new Thread(() -> {
          for (int k = 0; k < objects; k++) {
            sink = new byte[32 + 8 * (k % 16)];
          }
          com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
          allocated.addAndGet(mx.getCurrentThreadAllocatedBytes());
        }, SHORT_NAME);
        batch[i].start();
      }
      for (Thread t : batch) {
        t.join();
      }
    }
    return allocated.get();
  }

  /** An array object's size in the heap, from the JVM's own array base offset, 8-byte aligned. */
  static long arrayObjectSize(Class<?> arrayClass, int length) throws Exception {
    Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
    f.setAccessible(true);
    Object unsafe = f.get(null);
    int base = (int) unsafe.getClass().getMethod("arrayBaseOffset", Class.class).invoke(unsafe, arrayClass);
    int scale = (int) unsafe.getClass().getMethod("arrayIndexScale", Class.class).invoke(unsafe, arrayClass);
    return (base + (long) scale * length + 7) & ~7L;
  }
}
