package dev.jvmebpf.bpf.libbpf;

import java.lang.reflect.Method;
import java.util.Set;

/**
 * Grants native access to the module that loads our JNI library (this one), so that JDK 24 and
 * later print no "restricted method" warning on the host's stderr for its {@code System.load}.
 *
 * <p>Works only after the agent opened java.lang to this module with its Instrumentation
 * (redefineModule); then Module's JDK-internal {@code implAddEnableNativeAccess} is callable
 * from here. On JDKs without that method nothing is needed and nothing happens.
 */
public final class NativeAccess {

  /**
   * Whether this class, as it initialized, granted native access to its own module and every
   * other module of its layer, if it has one (the agent's named module): the bootstrap initializes
   * it with Class.forName right after java.base opened java.lang to that module, which needs no
   * reflective call and none of the method handles the JDK spins for one. False in an unnamed
   * module (tests) or when the JDK refused.
   */
  public static final boolean GRANTED = grantToOwnModules();

  private NativeAccess() {}

  private static boolean grantToOwnModules() {
    Module own = NativeAccess.class.getModule();
    if (!own.isNamed()) {
      return false;
    }
    ModuleLayer layer = own.getLayer();
    try {
      enable(layer == null ? Set.of(own) : layer.modules());
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  private static void enable(Set<Module> modules) throws ReflectiveOperationException {
    Method grant;
    try {
      grant = Module.class.getDeclaredMethod("implAddEnableNativeAccess");
    } catch (NoSuchMethodException e) {
      return;
    }
    grant.setAccessible(true);
    for (Module module : modules) {
      grant.invoke(module);
    }
  }
}
