package dev.jvmebpf.bpf.gc;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.util.List;

/**
 * The JVM's GC and memory pool MXBeans, for the collectors' names and pools and for their counts.
 *
 * <p>{@link ManagementFactory} finds them through its platform components, which at its first use
 * loaded some 130 classes and spun 7 of the JDK's lambdas: about 30 ms of the agent's start.
 * java.management's own registry ({@code sun.management.ManagementFactoryHelper}) holds the same
 * beans; the agent exports that package to this module alone, and {@link PlatformBeans} (built
 * apart, see the pom) then reads them there. Without that export: ManagementFactory.
 */
abstract class GcBeans {

  /** Set by PlatformBeans as it initializes; initializing it is the only way it is reached. */
  static volatile GcBeans platform;

  private static final String PLATFORM_BEANS = "dev.jvmebpf.bpf.gc.PlatformBeans";
  private static volatile GcBeans chosen;

  abstract List<GarbageCollectorMXBean> collectors();

  abstract List<MemoryPoolMXBean> pools();

  /** java.management's registry where it is exported to us, else ManagementFactory. */
  static GcBeans get() {
    GcBeans beans = chosen;
    if (beans == null) {
      beans = ManagementFactory.class.getModule().isExported("sun.management", GcBeans.class.getModule())
          ? platformOrNull() : null;
      chosen = beans = beans != null ? beans : STANDARD;
    }
    return beans;
  }

  private static GcBeans platformOrNull() {
    try {
      // Initializing it sets `platform`: no reflective call (whose method handles would be spun).
      Class.forName(PLATFORM_BEANS, true, GcBeans.class.getClassLoader());
      return platform;
    } catch (ClassNotFoundException | LinkageError e) {
      return null;
    }
  }

  static final GcBeans STANDARD = new GcBeans() {
    @Override
    List<GarbageCollectorMXBean> collectors() {
      return ManagementFactory.getGarbageCollectorMXBeans();
    }

    @Override
    List<MemoryPoolMXBean> pools() {
      return ManagementFactory.getMemoryPoolMXBeans();
    }
  };
}
