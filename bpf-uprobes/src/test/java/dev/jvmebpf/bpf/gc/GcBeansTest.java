package dev.jvmebpf.bpf.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * GcBeans against ManagementFactory, the JDK's public way to the same beans. The test JVM exports
 * sun.management to this (unnamed) module, as the agent does to the named one (see the pom).
 */
class GcBeansTest {

  @Test
  void readsJavaManagementsRegistryWhereExported() {
    assertEquals("PlatformBeans", GcBeans.get().getClass().getSimpleName());
  }

  @Test
  void namesPoolsAndTypesAreManagementFactorys() {
    List<String> ours = new ArrayList<>();
    for (GarbageCollectorMXBean bean : GcBeans.get().collectors()) {
      ours.add(bean.getName() + " " + List.of(bean.getMemoryPoolNames()));
    }
    List<String> oracle = new ArrayList<>();
    for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
      oracle.add(bean.getName() + " " + List.of(bean.getMemoryPoolNames()));
    }
    assertTrue(oracle.size() >= 1, "this JVM has collectors");
    // The same beans; ManagementFactory lists them in its own registry's order.
    Collections.sort(oracle);
    Collections.sort(ours);
    assertEquals(oracle, ours);

    List<String> pools = new ArrayList<>();
    for (MemoryPoolMXBean pool : GcBeans.get().pools()) {
      pools.add(pool.getName() + " " + pool.getType());
    }
    List<String> poolOracle = new ArrayList<>();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      poolOracle.add(pool.getName() + " " + pool.getType());
    }
    Collections.sort(poolOracle);
    Collections.sort(pools);
    assertEquals(poolOracle, pools);
  }

  @Test
  void countsAreManagementFactorys() {
    System.gc();
    long before = total(GcBeans.get().collectors());
    long oracle = total(ManagementFactory.getGarbageCollectorMXBeans());
    long after = total(GcBeans.get().collectors());
    assertTrue(before >= 1, "System.gc() was counted");
    assertTrue(before <= oracle && oracle <= after, before + " <= " + oracle + " <= " + after);
  }

  private static long total(List<GarbageCollectorMXBean> beans) {
    long sum = 0;
    for (GarbageCollectorMXBean bean : beans) {
      sum += Math.max(0, bean.getCollectionCount());
    }
    return sum;
  }

  @Test
  void standardIsManagementFactory() {
    assertEquals(ManagementFactory.getGarbageCollectorMXBeans().size(), GcBeans.STANDARD.collectors().size());
    assertEquals(ManagementFactory.getMemoryPoolMXBeans().size(), GcBeans.STANDARD.pools().size());
  }
}
