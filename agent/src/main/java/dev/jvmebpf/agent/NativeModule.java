package dev.jvmebpf.agent;

import java.lang.module.ModuleDescriptor;
import java.net.URI;
import jdk.internal.module.Modules;

/**
 * Defines the agent's native module (bpf-uprobes: the code that loads and calls our JNI library)
 * straight into its class loader, without a {@link ModuleLayer}: the layer's resolution and its
 * class loader spun some 20 of the JDK's lambdas and cost the start about 50 ms of CPU. The
 * module must be a named one, since JDK 24 grants native access per named module (an unnamed
 * one shares the whole application's setting).
 *
 * <p>It calls the JDK's internal {@code jdk.internal.module.Modules} directly (the build compiles
 * this class apart, with that package exported to it): the bootstrap exports the package to this
 * class loader's unnamed module (ours alone) with the Instrumentation before it loads this class,
 * and falls back to a layer if anything here fails. Nothing here may touch a class of the module
 * before it is defined.
 */
public final class NativeModule {

  private NativeModule() {}

  /**
   * {@link #define(ClassLoader, ModuleDescriptor, URI)} as the bootstrap calls it, reflectively:
   * {@code context} holds the three. Premain's shape (two references, void), whose method handles
   * the JDK has made already, instead of new ones for this call.
   */
  public static void define(String name, Object[] context) {
    Module module = define((ClassLoader) context[0], (ModuleDescriptor) context[1], (URI) context[2]);
    if (!module.getName().equals(name)) {
      throw new IllegalStateException("defined " + module.getName() + ", not " + name);
    }
  }

  /**
   * Defines the module {@code descriptor} describes to {@code loader}: it reads the modules it
   * requires, exports and opens every package to everyone, as the layer's open module did,
   * java.base opens java.lang to it (for {@code NativeAccess}, which grants it native access), and
   * java.management exports its internal sun.management to it (for the GC family's GcBeans).
   */
  public static Module define(ClassLoader loader, ModuleDescriptor descriptor, URI location) {
    Module module = Modules.defineModule(loader, descriptor, location);
    for (ModuleDescriptor.Requires requires : descriptor.requires()) {
      Module required = ModuleLayer.boot().findModule(requires.name()).orElse(null);
      if (required == null) {
        throw new IllegalStateException(descriptor.name() + " requires " + requires.name()
            + ", which this JVM's boot layer lacks");
      }
      Modules.addReads(module, required);
    }
    for (String pkg : descriptor.packages()) {
      Modules.addExports(module, pkg);
      Modules.addOpensToAllUnnamed(module, pkg);
    }
    Modules.addOpens(Object.class.getModule(), "java.lang", module);
    // The GC family reads the GC MXBeans from java.management's own registry (GcBeans).
    Module management = ModuleLayer.boot().findModule("java.management").orElse(null);
    if (management != null && management.getPackages().contains("sun.management")) {
      Modules.addExports(management, "sun.management", module);
    }
    return module;
  }
}
