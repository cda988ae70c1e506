package dev.jvmebpf.bpf.nativealloc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Real BPF on this test JVM: direct buffers of known sizes go through libc malloc and free;
 * the JVM's own direct buffer pool bean says when they are allocated and when freed.
 */
class NativeAllocationProbesTest {

  @Test
  void directBuffersShowInSizesAndOutstandingBytes() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    HistogramLayout bytes = HistogramLayout.create(3, 1);
    BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
    try (NativeAllocationProbes probes = NativeAllocationProbes.attach(libbpf, JvmProcess.current(), bytes,
        NativeAllocationProbes.DEFAULT_LIVE_BLOCKS, false)) {
      // free is probed after its NULL test, on the branch the kernel emulates.
      assertTrue(probes.placements().stream().anyMatch(p -> p.function().equals("free") && p.offset() > 0
          && p.emulated()), probes.placements().toString());
      long poolBefore = direct.getMemoryUsed();
      NativeAllocationSnapshot.AllocatorUsage before = malloc(probes.snapshot());

      // 256 MiB in all: the JIT's and the collector's own mallocs meanwhile stay a few percent of it.
      int buffers = 32;
      int size = 8 << 20;
      List<ByteBuffer> held = new ArrayList<>();
      for (int i = 0; i < buffers; i++) {
        held.add(ByteBuffer.allocateDirect(size));
      }
      long allocated = direct.getMemoryUsed() - poolBefore;
      // Other code's buffers (earlier tests' NIO and HttpClient caches) may be freed meanwhile:
      // seen, 16 KiB fewer than the 256 MiB.
      assertTrue(allocated >= (long) buffers * size - (64 << 10), "direct pool grew by " + allocated);
      NativeAllocationSnapshot.AllocatorUsage peak = malloc(probes.snapshot());

      HistogramSnapshot sizes = peak.sizes();
      long inBucket = sizes.bucketCount(bytes.bucketOf(size)) - before.sizes().bucketCount(bytes.bucketOf(size));
      assertTrue(inBucket >= buffers, inBucket + " mallocs in the bucket of " + size + " bytes, expected at least "
          + buffers + "; " + sizes);
      long rise = peak.outstandingBytes() - before.outstandingBytes();
      assertTrue(rise >= allocated * 0.95 && rise <= allocated * 1.5,
          "outstanding malloc bytes rose by " + rise + ", the direct pool by " + allocated);

      held.clear();
      long deadline = System.nanoTime() + 20_000_000_000L;
      // One collection finds the buffers unreachable; their cleaner then frees them. Few
      // collections, since each allocates native memory of its own.
      // Others may hold a few KiB of direct buffers meanwhile.
      long target = poolBefore + allocated - (long) buffers * size + (64 << 10);
      for (int i = 0; direct.getMemoryUsed() > target && System.nanoTime() < deadline; i++) {
        if (i % 20 == 0) {
          System.gc();
        }
        Thread.sleep(50);
      }
      long freed = poolBefore + allocated - direct.getMemoryUsed();
      assertTrue(freed >= (long) buffers * size - (64 << 10), "the direct pool released only " + freed + " bytes");
      NativeAllocationSnapshot.AllocatorUsage after = malloc(probes.snapshot());
      long fall = peak.outstandingBytes() - after.outstandingBytes();
      // The collection that finds the buffers allocates native memory too: 10% slack.
      assertTrue(fall >= freed * 0.90 && fall <= freed * 1.5,
          "outstanding malloc bytes fell by " + fall + ", the direct pool by " + freed);
      System.out.printf("direct pool +%d / -%d bytes; outstanding malloc bytes +%d / -%d%n", allocated, freed, rise, fall);
    }
  }

  private static NativeAllocationSnapshot.AllocatorUsage malloc(NativeAllocationSnapshot snapshot) {
    return snapshot.allocators().stream().filter(a -> a.allocator().equals("malloc")).findFirst().orElseThrow();
  }
}
