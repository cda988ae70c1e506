package dev.jvmebpf.agent;

import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.util.Map;
import java.util.Set;

/**
 * Classes of ours defined inside {@code java.base}, by the bootstrap class loader, where the JDK
 * code we rewrite can call them (a rewritten class resolves names through its own loader, and the
 * bootstrap loader sees nothing else), and where every other loader sees them too when the package
 * is exported. A template class of the agent, renamed, is defined once per JVM through a private
 * lookup into the package (which {@code Instrumentation.redefineModule} opens to the agent); a
 * later start in the same JVM (attach after detach) finds and reuses it. The template declares
 * its name there as {@code JAVA_BASE_NAME}, and the build writes its renamed copy next to it
 * (dev.jvmebpf.agent.build.JavaBaseTemplates). Such a template uses JDK
 * types only, has no nested class and no lambda, and the agent reaches its state through
 * reflection.
 */
public final class JavaBaseClasses {

  /** The static final String a template declares: its internal name inside java.base. */
  public static final String NAME_FIELD = "JAVA_BASE_NAME";
  /** The template renamed, next to {@code Template.class}: {@code Template.java-base}. */
  public static final String COPY_SUFFIX = ".java-base";

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
      // Renamed at build time (JavaBaseTemplates), from the template's JAVA_BASE_NAME.
      String copy = template.getSimpleName() + COPY_SUFFIX;
      byte[] bytes;
      try (InputStream in = template.getResourceAsStream(copy)) {
        if (in == null) {
          throw new IllegalStateException(copy + ", the java.base copy of " + template.getName()
              + ", is missing from the agent");
        }
        bytes = in.readAllBytes();
      }
      Class<?> defined = MethodHandles.privateLookupIn(inPackage, MethodHandles.lookup()).defineClass(bytes);
      if (!defined.getName().equals(name)) {
        throw new IllegalStateException(copy + " defines " + defined.getName() + ", not " + name
            + " (its JAVA_BASE_NAME differs from the caller's)");
      }
      return Class.forName(defined.getName(), true, null);
    }
  }
}
