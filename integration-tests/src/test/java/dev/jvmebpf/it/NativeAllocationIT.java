package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.DirectBufferWorkload;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Native allocation (probes.native=true) end to end: direct buffers of a known size appear in
 * process.native.allocation.size, and process.native.memory.outstanding rises and falls with
 * the JVM's own direct buffer pool, export by export.
 */
class NativeAllocationIT extends ReceiverTest {

  // 512 MiB in all: the JVM's own mallocs meanwhile stay a few percent of it. Its JIT compilers'
  // arenas come and go by megabytes (NMT showed the compiler's memory at 0.2, then 6.4, then 0.2
  // MB 100 ms apart), and one CI run's baseline read 18 MB where it reads 1.5 to 2 MB: 6% of the
  // 256 MiB this test allocated then.
  static final int BUFFERS = 64;
  static final int SIZE = 8 << 20;

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void directBuffersRiseAndFallInOutstandingBytes(int jdk) throws Exception {
    receiver.clear();
    TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(jdk))
        .withAgent(receiver.agentArguments("grpc").replace("interval=600s", "interval=300ms") + ",probes.native=true")
        .jvmArgs("-Xmx256m", "-XX:MaxDirectMemorySize=1g")
        .run(Duration.ofSeconds(120), DirectBufferWorkload.class, Integer.toString(BUFFERS), Integer.toString(SIZE),
            "1500");
    assertEquals(0, run.exitCode(), run.stderr());
    assertTrue(run.value("AGENT").contains("native"), "agent status: " + run.value("AGENT") + "\n" + run.stderr());
    long before = Long.parseLong(run.value("BEFORE_MS"));
    long allocatedAt = Long.parseLong(run.value("ALLOCATED_MS"));
    long freeingAt = Long.parseLong(run.value("FREEING_MS"));
    long freedAt = Long.parseLong(run.value("FREED_MS"));
    long poolAllocated = Long.parseLong(run.value("POOL_ALLOCATED"));
    long poolFreed = Long.parseLong(run.value("POOL_FREED"));
    assertTrue(poolAllocated >= (long) BUFFERS * SIZE
        && poolFreed >= (long) BUFFERS * SIZE - DirectBufferWorkload.OTHERS_SLACK, run.stdout());

    // The malloc allocator's outstanding bytes, export by export (time, value).
    List<long[]> outstanding = new ArrayList<>();
    for (OtlpReceiver.ResourceMetric m : receiver.metrics("process.native.memory.outstanding")) {
      for (NumberDataPoint p : m.metric().getGauge().getDataPointsList()) {
        if ("malloc".equals(Otlp.attributes(p.getAttributesList()).get("native.allocator"))) {
          outstanding.add(new long[] {p.getTimeUnixNano() / 1_000_000, p.getAsInt()});
        }
      }
    }
    // The lowest point of the second before the allocation, and of those after the frees: a point
    // that caught a compiler arena in use reads megabytes higher than its neighbours.
    long baseline = lowest(outstanding, before - 1000, before);
    // The highest while held: a point is stamped when its collection begins and read a moment
    // later, so on a loaded machine the last one before FREEING_MS may already see frees.
    long peak = outstanding.stream().filter(p -> p[0] >= allocatedAt && p[0] <= freeingAt).mapToLong(p -> p[1])
        .max().orElseThrow(() -> new AssertionError("no export between " + allocatedAt + " and " + freeingAt));
    long after = lowest(outstanding, freedAt, Long.MAX_VALUE);
    System.out.printf("JDK %d: direct pool +%d / -%d bytes; outstanding malloc bytes %d -> %d -> %d%n",
        jdk, poolAllocated, poolFreed, baseline, peak, after);
    assertTrue(peak - baseline >= 0.95 * poolAllocated && peak - baseline <= 1.5 * poolAllocated,
        "rise " + (peak - baseline) + " against the pool's " + poolAllocated);
    // The collection that finds the buffers allocates native memory too: 10% slack.
    assertTrue(peak - after >= 0.90 * poolFreed && peak - after <= 1.5 * poolFreed,
        "fall " + (peak - after) + " against the pool's " + poolFreed);

    ExponentialHistogramDataPoint sizes = receiver.latest("process.native.allocation.size").orElseThrow()
        .metric().getExponentialHistogram().getDataPointsList().stream()
        .filter(p -> "malloc".equals(Otlp.attributes(p.getAttributesList()).get("native.allocator")))
        .findFirst().orElseThrow(() -> new AssertionError("no malloc sizes"));
    assertTrue(Otlp.bucketCount(sizes, SIZE) >= BUFFERS,
        Otlp.bucketCount(sizes, SIZE) + " mallocs in the bucket of " + SIZE + " bytes");
  }

  /** The lowest value of the points stamped within [from, to] (epoch millis); fails when none. */
  private static long lowest(List<long[]> points, long from, long to) {
    long[] found = null;
    for (long[] p : points) {
      if (p[0] >= from && p[0] <= to && (found == null || p[1] < found[1])) {
        found = p;
      }
    }
    if (found == null) {
      throw new AssertionError("no export between " + from + " and " + to + " ms");
    }
    return found[1];
  }
}
