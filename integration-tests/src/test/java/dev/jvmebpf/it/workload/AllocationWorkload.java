package dev.jvmebpf.it.workload;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.util.concurrent.CountDownLatch;

/**
 * Runs in the target JVM. Once the agent has reported its state, threads with names longer
 * than the kernel's 15 bytes allocate known amounts of small objects, then the main thread
 * allocates N arrays of 4 MiB of each of byte[] and long[]. Prints what the JVM itself says:
 *
 * <pre>
 * AGENT &lt;status&gt;
 * THREAD &lt;name&gt;\t&lt;ThreadMXBean.getThreadAllocatedBytes at its end&gt;
 * ARRAY &lt;class&gt;\t&lt;size of one array object in bytes&gt;
 * </pre>
 *
 * The worker threads stay alive (parked) until the JVM exits, so they are live when the agent
 * exports at exit. args: arrays [megabytes per worker, comma-separated].
 */
public final class AllocationWorkload {

  static volatile Object sink;

  public static void main(String[] args) throws Exception {
    int arrays = Integer.parseInt(args[0]);
    String[] megabytes = (args.length > 1 ? args[1] : "80,112").split(",");
    System.out.println("AGENT " + Agent.awaitStatus());

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
