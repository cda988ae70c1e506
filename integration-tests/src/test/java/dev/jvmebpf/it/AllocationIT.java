package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.AllocationWorkload;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Heap allocation from the real agent against the JVM's own figures: bytes per thread against
 * ThreadMXBean.getThreadAllocatedBytes (within 1%: the threads allocate a little after reading
 * their own count, to print it, and nothing else may differ), for long-running threads, parked
 * with part of a TLAB used when the agent exports, and for 10,000
 * short-lived ones, and arrays larger than any TLAB counted outside TLABs under their class
 * names, in the bucket of their exact size; on the host and in a pid namespace of its own (as
 * in a container).
 */
class AllocationIT extends ReceiverTest {

  static final int ARRAYS = 25;
  static final int SHORT_LIVED_THREADS = 10_000;
  static final double BOUND = 0.01;

  @ParameterizedTest(name = "JDK {0}, {1}, {2}")
  @CsvSource({"17,G1GC,host", "17,ParallelGC,host", "25,G1GC,host", "25,ParallelGC,host", "17,G1GC,pidns",
      "25,ParallelGC,pidns", "17,G1GC,busy"})
  void threadsAndLargeArraysAgreeWithTheJvm(int jdk, String collector, String where) throws Exception {
    receiver.clear();
    TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(jdk)).in(where).withAgent(receiver.agentArguments("grpc"))
        // A young generation that holds every array of the loop: no collection in between.
        .jvmArgs("-XX:+Use" + collector, "-Xmx1g", "-Xmn512m")
        .run(Duration.ofSeconds(120), AllocationWorkload.class, Integer.toString(ARRAYS), "80,112",
            Integer.toString(SHORT_LIVED_THREADS));
    assertEquals(0, run.exitCode(), run.stderr());
    assertTrue(run.value("AGENT").contains("allocation"), "agent status: " + run.value("AGENT") + "\n" + run.stderr());

    Metric bytes = receiver.latest("jvm.allocation.bytes").orElseThrow(
        () -> new AssertionError("no jvm.allocation.bytes received")).metric();
    Map<String, Long> byThread = new HashMap<>();
    for (NumberDataPoint p : bytes.getSum().getDataPointsList()) {
      byThread.put(Otlp.attributes(p.getAttributesList()).get("thread.name"), p.getAsInt());
    }
    Map<String, String> threads = new java.util.TreeMap<>(run.table("THREAD"));
    assertEquals(2, threads.size(), run.stdout());
    // The short-lived threads share one name, one series: the sum of their own figures.
    threads.putAll(run.table("SHORT"));
    assertEquals(3, threads.size(), run.stdout());
    long expectedTotal = 0;
    long ourTotal = 0;
    for (Map.Entry<String, String> t : threads.entrySet()) {
      long expected = Long.parseLong(t.getValue());
      Long ours = byThread.get(t.getKey());
      assertTrue(ours != null, "no jvm.allocation.bytes for " + t.getKey() + " in " + byThread);
      double error = (ours - expected) / (double) expected;
      System.out.printf("JDK %d %s %s: %s allocated %d bytes (ThreadMXBean), jvm.allocation.bytes %d (%+.2f%%)%n",
          jdk, collector, where, t.getKey(), expected, ours, 100 * error);
      assertTrue(Math.abs(error) <= BOUND, t.getKey() + ": " + ours + " vs " + expected + "; all: " + byThread);
      expectedTotal += expected;
      ourTotal += ours;
    }
    double totalError = (ourTotal - expectedTotal) / (double) expectedTotal;
    System.out.printf("JDK %d %s %s: %d short-lived and 2 long-running threads: %d bytes (ThreadMXBean), "
        + "jvm.allocation.bytes %d (%+.2f%%)%n", jdk, collector, where, SHORT_LIVED_THREADS, expectedTotal, ourTotal,
        100 * totalError);
    assertTrue(Math.abs(totalError) <= BOUND, "all the workload's threads: " + ourTotal + " vs " + expectedTotal);

    Metric outside = receiver.latest("jvm.allocation.outside_tlab.size").orElseThrow(
        () -> new AssertionError("no jvm.allocation.outside_tlab.size received")).metric();
    Map<String, ExponentialHistogramDataPoint> byClass = new HashMap<>();
    for (ExponentialHistogramDataPoint p : outside.getExponentialHistogram().getDataPointsList()) {
      byClass.put(Otlp.attributes(p.getAttributesList()).get("jvm.class.name"), p);
    }
    for (Map.Entry<String, String> array : run.table("ARRAY").entrySet()) {
      long size = Long.parseLong(array.getValue());
      ExponentialHistogramDataPoint p = byClass.get(array.getKey());
      assertTrue(p != null, "no outside-TLAB sizes for " + array.getKey() + " in " + byClass.keySet());
      assertEquals(p.getCount(), Otlp.bucketTotal(p), "bucket counts of " + array.getKey() + " sum to its count");
      long inBucket = Otlp.bucketCount(p, size);
      System.out.printf("JDK %d %s: %d x %s of %d bytes; outside-TLAB bucket holds %d (count %d, max %.0f)%n",
          jdk, collector, ARRAYS, array.getKey(), size, inBucket, p.getCount(), p.getMax());
      assertTrue(inBucket >= ARRAYS, array.getKey() + ": " + inBucket + " in the bucket of " + size);
      assertTrue(p.getMin() <= size && size <= p.getMax(), array.getKey() + " min/max exclude " + size);
    }
  }
}
