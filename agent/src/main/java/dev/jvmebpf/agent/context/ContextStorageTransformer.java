package dev.jvmebpf.agent.context;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.WeakHashMap;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Rewrites OpenTelemetry's thread-local context storage ({@code io.opentelemetry.context.
 * ThreadLocalContextStorage} and its nested scope classes, in the application's own copy or a
 * relocated one such as the OpenTelemetry Java agent's) so that each {@code ThreadLocal.set} it
 * makes, the moment a context becomes current on attach and again when a scope closes, goes
 * through {@code java.lang.JebContextBridge#set} ({@link ContextBridge} as defined in java.base,
 * visible to every class loader, the bootstrap loader of the Java agent's storage included): one
 * instruction replaced by a static call with the same operands, in every version of the class
 * (enum or class, scope class or lambda). Our own relocated SDK is left alone. Nothing else is
 * touched.
 */
public final class ContextStorageTransformer implements ClassFileTransformer {

  /** The storage's internal name, built at run time: the shade plugin would relocate a literal. */
  static final String STORAGE = String.join("/", "io", "opentelemetry", "context", "ThreadLocalContextStorage");
  static final String STORAGE_SIMPLE_NAME = "ThreadLocalContextStorage";
  static final String OURS = "dev/jvmebpf/";
  static final String BRIDGE = ThreadContextInstrumentation.BRIDGE;

  private final Class<?> bridge;
  private final Map<ClassLoader, Boolean> seesBridge = new WeakHashMap<>(); // guarded by itself

  /** {@code bridge}: the bridge class (defined in java.base) the rewritten code must reach. */
  public ContextStorageTransformer(Class<?> bridge) {
    this.bridge = bridge;
  }

  /** Whether {@code internalName} (slashes) is a storage class or one nested in it. */
  public static boolean isStorage(String internalName) {
    if (internalName == null || internalName.startsWith(OURS)) {
      return false;
    }
    int at = internalName.indexOf(STORAGE);
    if (at < 0 || (at > 0 && internalName.charAt(at - 1) != '/')) {
      return false;
    }
    int end = at + STORAGE.length();
    return end == internalName.length() || internalName.charAt(end) == '$';
  }

  @Override
  public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain,
      byte[] bytes) {
    if (!isStorage(className) || !seesBridge(loader)) {
      return null; // a loader that cannot see the bridge keeps the class as it is
    }
    try {
      return rewrite(bytes);
    } catch (RuntimeException e) {
      return null; // a class we cannot read stays as it is
    }
  }

  /**
   * Whether classes of {@code loader} resolve the bridge's name to our bridge class: every
   * loader that delegates java.* names to the bootstrap loader, as the JDK requires of them.
   */
  boolean seesBridge(ClassLoader loader) {
    if (loader == null) {
      return bridge.getClassLoader() == null; // the bootstrap loader: the Java agent's storage
    }
    synchronized (seesBridge) {
      Boolean known = seesBridge.get(loader);
      if (known != null) {
        return known;
      }
    }
    boolean sees;
    try {
      sees = Class.forName(BRIDGE.replace('/', '.'), false, loader) == bridge;
    } catch (Throwable e) {
      sees = false;
    }
    synchronized (seesBridge) {
      seesBridge.put(loader, sees);
    }
    return sees;
  }

  /** The class with each ThreadLocal.set(Object) call sent through the bridge; null: none found. */
  static byte[] rewrite(byte[] bytes) {
    ClassReader reader = new ClassReader(bytes);
    ClassWriter writer = new ClassWriter(reader, 0);
    int[] rewritten = {0};
    reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
      @Override
      public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
          String[] exceptions) {
        return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, descriptor, signature, exceptions)) {
          @Override
          public void visitMethodInsn(int opcode, String owner, String method, String desc, boolean isInterface) {
            if (opcode == Opcodes.INVOKEVIRTUAL && owner.equals("java/lang/ThreadLocal") && method.equals("set")
                && desc.equals("(Ljava/lang/Object;)V")) {
              rewritten[0]++;
              super.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, "set", "(Ljava/lang/ThreadLocal;Ljava/lang/Object;)V",
                  false);
            } else {
              super.visitMethodInsn(opcode, owner, method, desc, isInterface);
            }
          }
        };
      }
    }, 0);
    return rewritten[0] > 0 ? writer.toByteArray() : null;
  }
}
