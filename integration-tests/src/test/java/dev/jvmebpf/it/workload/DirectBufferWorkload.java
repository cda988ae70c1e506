package dev.jvmebpf.it.workload;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs in the target JVM (agent with probes.native=true and a short export interval). Allocates
 * direct buffers of a known size, holds them across a few exports, frees them (the direct
 * buffer pool's MXBean says when), and holds again. Prints wall-clock marks and the pool's own
 * figures:
 *
 * <pre>
 * AGENT &lt;status&gt;
 * BEFORE_MS / ALLOCATED_MS / FREEING_MS / FREED_MS &lt;epoch millis&gt;
 * POOL_ALLOCATED / POOL_FREED &lt;bytes the direct pool grew and shrank by&gt;
 * </pre>
 *
 * args: buffers sizeBytes holdMillis
 */
public final class DirectBufferWorkload {

  /** Direct buffer bytes that others in this JVM may hold on to while ours are freed. */
  public static final long OTHERS_SLACK = 64 << 10;

  public static void main(String[] args) throws Exception {
    int buffers = Integer.parseInt(args[0]);
    int size = Integer.parseInt(args[1]);
    long hold = Long.parseLong(args[2]);
    System.out.println("AGENT " + Agent.awaitStatus());
    BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();

    Thread.sleep(hold);
    long pool = direct.getMemoryUsed();
    System.out.println("BEFORE_MS " + System.currentTimeMillis());
    List<ByteBuffer> held = new ArrayList<>();
    for (int i = 0; i < buffers; i++) {
      held.add(ByteBuffer.allocateDirect(size));
    }
    long peak = direct.getMemoryUsed();
    System.out.println("ALLOCATED_MS " + System.currentTimeMillis());
    System.out.println("POOL_ALLOCATED " + (peak - pool));
    Thread.sleep(hold);

    System.out.println("FREEING_MS " + System.currentTimeMillis());
    held.clear();
    long deadline = System.nanoTime() + 20_000_000_000L;
    // One collection finds the buffers unreachable; their cleaner then frees them. Few
    // collections, since each allocates native memory of its own.
    // Until our buffers are gone. Others (the exporter's, a few KiB) come and go meanwhile, so
    // the pool need not fall by exactly ours: OTHERS_SLACK bytes of theirs are allowed.
    long target = peak - (long) buffers * size + OTHERS_SLACK;
    for (int i = 0; direct.getMemoryUsed() > target && System.nanoTime() < deadline; i++) {
      if (i % 20 == 0) {
        System.gc();
      }
      Thread.sleep(50);
    }
    System.out.println("FREED_MS " + System.currentTimeMillis());
    System.out.println("POOL_FREED " + (peak - direct.getMemoryUsed()));
    Thread.sleep(hold);
  }
}
