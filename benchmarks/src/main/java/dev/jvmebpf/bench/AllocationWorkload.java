package dev.jvmebpf.bench;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs in the benchmark's JVMs. "heap": two threads build small object graphs (lists, maps,
 * strings, arrays, some kept for a while); "native": one thread mallocs and frees through
 * Unsafe. Warms up 3 s, measures 6 s, prints "AGENT &lt;status&gt;" and "RESULT &lt;operations per second&gt;".
 */
public final class AllocationWorkload {

  static final long WARMUP_NANOS = 3_000_000_000L;
  static final long MEASURE_NANOS = 6_000_000_000L;
  static volatile Object sink;
  static volatile boolean measuring;
  static volatile boolean stop;

  public static void main(String[] args) throws Exception {
    System.out.println("AGENT " + awaitAgent());
    boolean heap = args[0].equals("heap");
    int threads = heap ? 2 : 1;
    LongAdder operations = new LongAdder();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(heap ? () -> heap(operations) : () -> nativeMemory(operations), "bench-" + t);
      workers.add(w);
      w.start();
    }
    Thread.sleep(WARMUP_NANOS / 1_000_000);
    operations.reset();
    long start = System.nanoTime();
    measuring = true;
    Thread.sleep(MEASURE_NANOS / 1_000_000);
    long done = operations.sum();
    long elapsed = System.nanoTime() - start;
    stop = true;
    for (Thread w : workers) {
      w.join();
    }
    System.out.println("RESULT " + done * 1e9 / elapsed);
  }

  private static void heap(LongAdder operations) {
    Object[] retained = new Object[4096];
    long i = 0;
    while (!stop) {
      List<Object> list = new ArrayList<>(8);
      Map<String, Object> map = new HashMap<>();
      for (int k = 0; k < 8; k++) {
        String s = "item-" + (i + k);
        list.add(s);
        map.put(s, new long[k + 1]);
      }
      sink = list;
      retained[(int) (i & 4095)] = map;
      i++;
      operations.increment();
    }
    sink = retained;
  }

  private static void nativeMemory(LongAdder operations) {
    try {
      Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
      f.setAccessible(true);
      Object unsafe = f.get(null);
      Method allocate = unsafe.getClass().getMethod("allocateMemory", long.class);
      Method free = unsafe.getClass().getMethod("freeMemory", long.class);
      long i = 0;
      while (!stop) {
        long address = (long) allocate.invoke(unsafe, 16 + (i * 37) % 4080);
        free.invoke(unsafe, address);
        i++;
        operations.increment();
      }
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The agent's status once it has started ("none" without the agent). */
  static String awaitAgent() throws InterruptedException {
    if (System.getProperty("jvm.ebpf.agent.premain.nanos") == null) {
      return "none";
    }
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      String status = System.getProperty("jvm.ebpf.agent.status");
      if (status != null && !status.equals("starting")) {
        return status;
      }
      Thread.sleep(20);
    }
    return "timeout";
  }
}
