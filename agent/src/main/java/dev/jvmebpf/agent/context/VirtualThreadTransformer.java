package dev.jvmebpf.agent.context;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Rewrites {@code java.lang.VirtualThread} (JDK 21+) so that the thread context record of its
 * carrier follows the virtual thread that is mounted: {@code mount()} calls
 * {@code ContextBridge.beforeMount()} first (the carrier is still the current thread) and
 * {@code ContextBridge.mounted()} before it returns (the virtual thread is); {@code unmount()}
 * calls {@code ContextBridge.unmounting()} first (the virtual thread still is). Three static
 * calls without arguments: no operand, local or frame changes. Both methods must be there, as
 * private no-argument methods (JDK 21 to 25), or nothing is rewritten.
 */
final class VirtualThreadTransformer implements ClassFileTransformer {

  static final String VIRTUAL_THREAD = "java/lang/VirtualThread";

  private final String bridge;
  volatile boolean rewritten;

  /** {@code bridge}: the internal name of the bridge class as defined in java.lang. */
  VirtualThreadTransformer(String bridge) {
    this.bridge = bridge;
  }

  @Override
  public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain,
      byte[] bytes) {
    if (loader != null || !VIRTUAL_THREAD.equals(className)) {
      return null;
    }
    try {
      byte[] out = rewrite(bytes, bridge);
      rewritten = out != null;
      return out;
    } catch (RuntimeException e) {
      return null; // a layout we cannot read stays as it is
    }
  }

  /** The class with the three calls; null when mount()V or unmount()V is missing. */
  static byte[] rewrite(byte[] bytes, String bridge) {
    ClassReader reader = new ClassReader(bytes);
    ClassWriter writer = new ClassWriter(reader, 0);
    int[] hooked = {0, 0};
    reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
      @Override
      public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
          String[] exceptions) {
        MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
        boolean instance = (access & (Opcodes.ACC_STATIC | Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) == 0;
        if (!instance || !descriptor.equals("()V") || !(name.equals("mount") || name.equals("unmount"))) {
          return mv;
        }
        boolean mount = name.equals("mount");
        hooked[mount ? 0 : 1]++;
        return new MethodVisitor(Opcodes.ASM9, mv) {
          @Override
          public void visitCode() {
            super.visitCode();
            super.visitMethodInsn(Opcodes.INVOKESTATIC, bridge, mount ? "beforeMount" : "unmounting", "()V", false);
          }

          @Override
          public void visitInsn(int opcode) {
            if (mount && opcode == Opcodes.RETURN) {
              super.visitMethodInsn(Opcodes.INVOKESTATIC, bridge, "mounted", "()V", false);
            }
            super.visitInsn(opcode);
          }
        };
      }
    }, 0);
    return hooked[0] == 1 && hooked[1] == 1 ? writer.toByteArray() : null;
  }
}
