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

  private NativeAccess() {}

  public static void enable(Set<Module> modules) throws ReflectiveOperationException {
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
