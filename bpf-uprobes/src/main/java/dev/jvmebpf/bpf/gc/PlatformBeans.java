package dev.jvmebpf.bpf.gc;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.util.List;
import sun.management.ManagementFactoryHelper;

/**
 * {@link GcBeans} from java.management's own registry. Compiled apart (see the pom: the package is
 * internal) and reached only through {@link GcBeans#get}, which initializes it when the package is
 * exported to this module.
 */
final class PlatformBeans extends GcBeans {

  static {
    GcBeans.platform = new PlatformBeans();
  }

  private PlatformBeans() {}

  @Override
  List<GarbageCollectorMXBean> collectors() {
    return ManagementFactoryHelper.getGarbageCollectorMXBeans();
  }

  @Override
  List<MemoryPoolMXBean> pools() {
    return ManagementFactoryHelper.getMemoryPoolMXBeans();
  }
}
