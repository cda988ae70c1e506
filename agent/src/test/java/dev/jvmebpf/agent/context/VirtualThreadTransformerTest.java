package dev.jvmebpf.agent.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The rewrite of JDK 25's own {@code java.lang.VirtualThread} (read from that JDK's runtime image,
 * whatever JDK runs this test): mount calls the bridge first and before each return, unmount
 * first; nothing else changes.
 */
class VirtualThreadTransformerTest {

  static final String BRIDGE = ThreadContextInstrumentation.BRIDGE;

  @Test
  void mountAndUnmountOfJdk25CallTheBridge() throws Exception {
    byte[] original = virtualThreadOf(Path.of(System.getProperty("jeb.jdk25.home",
        "/usr/lib/jvm/temurin-25-jdk-amd64")));
    byte[] rewritten = VirtualThreadTransformer.rewrite(original, BRIDGE);
    assertNotNull(rewritten, "JDK 25's VirtualThread has mount()V and unmount()V");
    assertEquals(List.of("beforeMount"), bridgeCalls(original, rewritten, "mount", true));
    assertEquals(List.of("mounted"), bridgeCalls(original, rewritten, "mount", false));
    assertEquals(List.of("unmounting"), bridgeCalls(original, rewritten, "unmount", true));
    assertEquals(List.of(), bridgeCalls(original, rewritten, "unmount", false));
    assertEquals(methodCalls(original) + 3, methodCalls(rewritten), "three calls added, nothing else");
  }

  @Test
  void aClassWithoutThemStaysAsItIs() throws Exception {
    try (var in = ClassLoader.getSystemResourceAsStream("java/lang/Thread.class")) {
      assertNull(VirtualThreadTransformer.rewrite(in.readAllBytes(), BRIDGE));
    }
  }

  private static byte[] virtualThreadOf(Path javaHome) throws Exception {
    boolean present = Files.isDirectory(javaHome.resolve("lib"));
    if (!present && "true".equalsIgnoreCase(System.getenv("CI"))) {
      fail("no JDK 25 at " + javaHome + "; CI needs it");
    }
    assumeTrue(present, "skipped, no JDK 25 at " + javaHome);
    try (FileSystem jrt = FileSystems.newFileSystem(URI.create("jrt:/"), Map.of("java.home", javaHome.toString()))) {
      return Files.readAllBytes(jrt.getPath("modules", "java.base", "java/lang/VirtualThread.class"));
    }
  }

  /**
   * The bridge calls in {@code method} of the rewritten class that the original did not have: at
   * its start ({@code first}), or elsewhere, each directly before a return.
   */
  private static List<String> bridgeCalls(byte[] original, byte[] rewritten, String method, boolean first) {
    assertEquals(0, calls(original, method).size(), "the JDK's own class calls no bridge");
    List<String> out = new ArrayList<>();
    List<String[]> calls = calls(rewritten, method);
    for (String[] c : calls) {
      boolean atStart = c[1].equals("0");
      if (atStart == first) {
        if (!first) {
          assertEquals("RETURN", c[2], method + ": " + c[0] + " right before a return");
        }
        out.add(c[0]);
      }
    }
    return out;
  }

  /** {name, index of the call among the method's instructions, the next opcode} of each bridge call. */
  private static List<String[]> calls(byte[] bytes, String method) {
    List<String[]> out = new ArrayList<>();
    new ClassReader(bytes).accept(new ClassVisitor(Opcodes.ASM9) {
      @Override
      public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
          String[] exceptions) {
        if (!name.equals(method) || !descriptor.equals("()V")) {
          return null;
        }
        return new MethodVisitor(Opcodes.ASM9) {
          int index;
          String[] pending;

          @Override
          public void visitMethodInsn(int opcode, String owner, String m, String d, boolean itf) {
            next("CALL");
            if (owner.equals(BRIDGE)) {
              pending = new String[] {m, Integer.toString(index - 1), null};
              out.add(pending);
            }
          }

          @Override
          public void visitInsn(int opcode) {
            next(opcode == Opcodes.RETURN ? "RETURN" : "OTHER");
          }

          @Override
          public void visitVarInsn(int opcode, int var) {
            next("OTHER");
          }

          @Override
          public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
            next("OTHER");
          }

          @Override
          public void visitJumpInsn(int opcode, org.objectweb.asm.Label label) {
            next("OTHER");
          }

          @Override
          public void visitTypeInsn(int opcode, String type) {
            next("OTHER");
          }

          private void next(String what) {
            if (pending != null && pending[2] == null) {
              pending[2] = what;
            }
            index++;
          }
        };
      }
    }, 0);
    return out;
  }

  /** The method calls in mount and unmount. */
  private static int methodCalls(byte[] bytes) {
    int[] n = {0};
    new ClassReader(bytes).accept(new ClassVisitor(Opcodes.ASM9) {
      @Override
      public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
          String[] exceptions) {
        if (!name.equals("mount") && !name.equals("unmount")) {
          return null;
        }
        return new MethodVisitor(Opcodes.ASM9) {
          @Override
          public void visitMethodInsn(int opcode, String owner, String m, String d, boolean itf) {
            n[0]++;
          }
        };
      }
    }, 0);
    return n[0];
  }
}
