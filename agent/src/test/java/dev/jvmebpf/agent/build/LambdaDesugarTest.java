package dev.jvmebpf.agent.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Handle;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/** LambdaShapes run as javac compiled it and as LambdaDesugar rewrote it: the same results. */
class LambdaDesugarTest {

  private static final String PREFIX = "dev/jvmebpf/agent/build/LambdaShapes";

  @Test
  void desugaredLambdasGiveTheSameResultsWithoutTheMetafactory() throws Exception {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    for (String name : List.of("", "$Op", "$IntOp", "$Marker", "$WithDefault")) {
      entries.put(PREFIX + name + ".class", bytes(PREFIX + name + ".class"));
    }
    Map<String, byte[]> desugared = new LambdaDesugar().desugar(entries);

    List<Object> expected = new LambdaShapes().results();
    List<Object> actual = run(desugared);
    assertEquals(expected, actual);

    // Left to the metafactory: the reference to the private helper (not a lambda body), and the
    // serializable lambda with the site javac adds to $deserializeLambda$ for it.
    List<String> kept = metafactoryCalls(desugared.get(PREFIX + ".class"));
    assertEquals(3, kept.size(), "sites left: " + kept);
    assertTrue(kept.contains("helper"), "sites left: " + kept);
    assertEquals(1, kept.stream().filter(n -> !n.equals("helper")).distinct().count(), "sites left: " + kept);
    assertEquals(List.of(), metafactoryCalls(desugared.get(PREFIX + "$WithDefault.class")));
    // One class per site made a class.
    int sites = metafactoryCalls(entries.get(PREFIX + ".class")).size()
        + metafactoryCalls(entries.get(PREFIX + "$WithDefault.class")).size();
    long made = desugared.keySet().stream().filter(n -> n.contains("$$Desugared$")).count();
    assertEquals(sites - kept.size(), made, "classes made for " + sites + " sites");
  }

  /**
   * In a jar holding PlainFunctions, calls to the JDK methods whose lambdas would be spun go to
   * PlainFunctions, with the same results; in a jar without it they stay.
   */
  @Test
  void jdkFactoriesGoToPlainFunctionsWithTheSameResults() throws Exception {
    String calls = "dev/jvmebpf/agent/build/JdkLambdaCalls";
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put(calls + ".class", bytes(calls + ".class"));
    assertEquals(LambdaDesugar.REDIRECTED.size(), jdkCalls(entries.get(calls + ".class")).size(),
        "JdkLambdaCalls calls each redirected method");

    Map<String, byte[]> alone = new LambdaDesugar().desugar(entries);
    assertEquals(LambdaDesugar.REDIRECTED.size(), jdkCalls(alone.get(calls + ".class")).size(),
        "without PlainFunctions in the jar, nothing is redirected");

    String plain = LambdaDesugar.PLAIN_FUNCTIONS + ".class";
    entries.put(plain, bytes(plain));
    String nested = LambdaDesugar.PLAIN_FUNCTIONS + "$Plain.class";
    entries.put(nested, bytes(nested));
    Map<String, byte[]> desugared = new LambdaDesugar().desugar(entries);
    assertEquals(Set.of(), jdkCalls(desugared.get(calls + ".class")));
    assertEquals(Set.of("java/lang/System.getenv()Ljava/util/Map;"), jdkCalls(desugared.get(plain)),
        "PlainFunctions itself still calls the JDK's getenv");
    assertEquals(new JdkLambdaCalls().results(), run(desugared, calls));
  }

  /** The calls to {@link LambdaDesugar#REDIRECTED} methods in a class. */
  private static Set<String> jdkCalls(byte[] classFile) {
    Set<String> out = new java.util.TreeSet<>();
    new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
      @Override
      public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
        return new MethodVisitor(Opcodes.ASM9) {
          @Override
          public void visitMethodInsn(int opcode, String owner, String n, String d, boolean itf) {
            if (LambdaDesugar.REDIRECTED.contains(owner + "." + n + d)) {
              out.add(owner + "." + n + d);
            }
          }
        };
      }
    }, 0);
    return out;
  }

  /**
   * The templates JavaBaseClasses copies into java.base must spin no lambda: desugared, a lambda
   * would call a class of ours that is not copied with them.
   */
  @Test
  void javaBaseTemplatesHaveNoLambdas() throws Exception {
    for (Class<?> template : List.of(dev.jvmebpf.agent.socket.SocketTimingPoint.class,
        dev.jvmebpf.agent.context.ContextBridge.class)) {
      byte[] classFile = bytes(template.getName().replace('.', '/') + ".class");
      assertEquals(List.of(), metafactoryCalls(classFile), template.getName());
    }
  }

  /** Runs results() of the rewritten classes, loaded by a loader of their own. */
  private static List<Object> run(Map<String, byte[]> classes) throws Exception {
    return run(classes, PREFIX);
  }

  private static List<Object> run(Map<String, byte[]> classes, String main) throws Exception {
    ClassLoader loader = new ClassLoader(LambdaDesugarTest.class.getClassLoader()) {
      @Override
      protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        synchronized (getClassLoadingLock(name)) {
          byte[] b = classes.get(name.replace('.', '/') + ".class");
          if (b == null) {
            return super.loadClass(name, resolve);
          }
          Class<?> c = findLoadedClass(name);
          return c != null ? c : defineClass(name, b, 0, b.length);
        }
      }
    };
    Class<?> shapes = loader.loadClass(main.replace('/', '.'));
    assertTrue(shapes.getClassLoader() == loader, "the rewritten class is the one run");
    Method results = shapes.getMethod("results");
    @SuppressWarnings("unchecked")
    List<Object> out = (List<Object>) results.invoke(shapes.getConstructor().newInstance());
    return out;
  }

  /** The implementation methods of the LambdaMetafactory call sites left in a class. */
  private static List<String> metafactoryCalls(byte[] classFile) {
    List<String> out = new ArrayList<>();
    new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
      @Override
      public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
        return new MethodVisitor(Opcodes.ASM9) {
          @Override
          public void visitInvokeDynamicInsn(String n, String d, Handle bsm, Object... args) {
            if (bsm.getOwner().equals("java/lang/invoke/LambdaMetafactory")) {
              out.add(((Handle) args[1]).getName());
            }
          }
        };
      }
    }, 0);
    return out;
  }

  private static byte[] bytes(String resource) throws IOException {
    try (InputStream in = LambdaDesugarTest.class.getClassLoader().getResourceAsStream(resource)) {
      return in.readAllBytes();
    }
  }
}
