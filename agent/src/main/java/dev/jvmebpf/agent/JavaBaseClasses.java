package dev.jvmebpf.agent;

import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.util.Map;
import java.util.Set;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.commons.ClassRemapper;
import org.objectweb.asm.commons.SimpleRemapper;

/**
 * Classes of ours defined inside {@code java.base}, by the bootstrap class loader, where the JDK
 * code we rewrite can call them (a rewritten class resolves names through its own loader, and the
 * bootstrap loader sees nothing else), and where every other loader sees them too when the package
 * is exported. A template class of the agent, renamed, is defined once per JVM through a private
 * lookup into the package (which {@code Instrumentation.redefineModule} opens to the agent); a
 * later start in the same JVM (attach after detach) finds and reuses it. Such a template uses JDK
 * types only, has no nested class and no lambda, and the agent reaches its state through
 * reflection.
 */
public final class JavaBaseClasses {

  private JavaBaseClasses() {}

  /**
   * The class {@code internalName} (slashes) in the package of {@code inPackage}, a java.base class:
   * {@code template} renamed, defined now unless an earlier start defined it; initialized. The
   * package is exported and opened to the caller's module as a side effect (needed to define
   * into it and to reflect on what was defined).
   *
   * <p>A template must use no lambda or method reference: the build turns those into classes of
   * the template's own package, which are not copied with it (LambdaDesugarTest checks the
   * templates).
   */
  public static Class<?> define(Instrumentation instrumentation, Class<?> template, String internalName,
      Class<?> inPackage) throws Exception {
    Module base = Object.class.getModule();
    if (inPackage.getModule() != base || inPackage.getClassLoader() != null) {
      throw new IllegalArgumentException(inPackage + " is not a class of java.base");
    }
    String pkg = inPackage.getPackageName();
    Module ours = template.getModule();
    instrumentation.redefineModule(base, Set.of(), Map.of(pkg, Set.of(ours)), Map.of(pkg, Set.of(ours)), Set.of(),
        Map.of());
    String name = internalName.replace('/', '.');
    try {
      return Class.forName(name, true, null);
    } catch (ClassNotFoundException notYet) {
      byte[] bytes;
      try (InputStream in = template.getResourceAsStream(template.getSimpleName() + ".class")) {
        if (in == null) {
          throw new IllegalStateException("the class file of " + template.getName() + " is missing from the agent");
        }
        bytes = in.readAllBytes();
      }
      ClassWriter writer = new ClassWriter(0);
      new ClassReader(bytes).accept(new ClassRemapper(writer,
          new SimpleRemapper(template.getName().replace('.', '/'), internalName)), 0);
      Class<?> defined = MethodHandles.privateLookupIn(inPackage, MethodHandles.lookup())
          .defineClass(writer.toByteArray());
      return Class.forName(defined.getName(), true, null);
    }
  }
}
