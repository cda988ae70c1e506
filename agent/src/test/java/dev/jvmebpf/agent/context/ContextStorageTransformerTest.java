package dev.jvmebpf.agent.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/** Which classes the transformer rewrites, and what the rewrite of OpenTelemetry's own storage does. */
class ContextStorageTransformerTest {

  @Test
  void matchesTheStorageAndItsNestedClassesInAnyRelocationButOurs() {
    assertTrue(ContextStorageTransformer.isStorage("io/opentelemetry/context/ThreadLocalContextStorage"));
    assertTrue(ContextStorageTransformer.isStorage("io/opentelemetry/context/ThreadLocalContextStorage$ScopeImpl"));
    assertTrue(ContextStorageTransformer.isStorage(
        "io/opentelemetry/javaagent/shaded/io/opentelemetry/context/ThreadLocalContextStorage"));
    assertFalse(ContextStorageTransformer.isStorage(
        "dev/jvmebpf/shaded/io/opentelemetry/context/ThreadLocalContextStorage"), "our own SDK's");
    assertFalse(ContextStorageTransformer.isStorage("io/opentelemetry/context/ThreadLocalContextStorageTest"));
    assertFalse(ContextStorageTransformer.isStorage("xio/opentelemetry/context/ThreadLocalContextStorage"));
    assertFalse(ContextStorageTransformer.isStorage("io/opentelemetry/context/Context"));
    assertFalse(ContextStorageTransformer.isStorage(null));
  }

  /** The OpenTelemetry context library on this test's class path: the version the agent carries. */
  @Test
  void everyThreadLocalSetOfTheRealStorageGoesThroughTheBridge() throws IOException {
    List<byte[]> classes = new ArrayList<>();
    for (String name : List.of("ThreadLocalContextStorage", "ThreadLocalContextStorage$ScopeImpl",
        "ThreadLocalContextStorage$NoopScope")) {
      byte[] bytes = bytesOf(String.join("/", "io", "opentelemetry", "context", name) + ".class");
      if (bytes != null) {
        classes.add(bytes);
      }
    }
    assertTrue(!classes.isEmpty(), "the storage class is on the test class path");
    int before = 0;
    int bridged = 0;
    for (byte[] original : classes) {
      before += calls(original, "java/lang/ThreadLocal", "set");
      byte[] rewritten = ContextStorageTransformer.rewrite(original);
      if (rewritten == null) {
        assertEquals(0, calls(original, "java/lang/ThreadLocal", "set"), "nothing to rewrite");
        continue;
      }
      assertEquals(0, calls(rewritten, "java/lang/ThreadLocal", "set"), "no ThreadLocal.set left");
      bridged += calls(rewritten, ContextStorageTransformer.BRIDGE, "set");
    }
    assertTrue(before >= 2, "attach and the scope's close each set the thread-local: " + before);
    assertEquals(before, bridged, "each one now calls the bridge");
    assertNull(ContextStorageTransformer.rewrite(bytesOf("java/lang/String.class")), "other classes untouched");
  }

  private static byte[] bytesOf(String resource) throws IOException {
    try (InputStream in = ClassLoader.getSystemResourceAsStream(resource)) {
      return in == null ? null : in.readAllBytes();
    }
  }

  private static int calls(byte[] bytes, String owner, String name) {
    int[] n = {0};
    new ClassReader(bytes).accept(new ClassVisitor(Opcodes.ASM9) {
      @Override
      public MethodVisitor visitMethod(int access, String method, String descriptor, String signature,
          String[] exceptions) {
        return new MethodVisitor(Opcodes.ASM9) {
          @Override
          public void visitMethodInsn(int opcode, String o, String m, String d, boolean itf) {
            if (o.equals(owner) && m.equals(name)) {
              n[0]++;
            }
          }
        };
      }
    }, 0);
    return n[0];
  }
}
