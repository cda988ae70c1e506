package dev.jvmebpf.agent.socket;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.List;
import java.util.Set;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.FieldVisitor;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.commons.AdviceAdapter;

/**
 * Adds the timing point to the JDK's TCP socket implementation (JDK 17 and 25):
 * {@code SocketChannelImpl.read/write} (ByteBuffer and vectored: SocketChannel, with or without a
 * selector, and what HttpClient and NIO servers use) and {@code NioSocketImpl.implRead/implWrite}
 * (each system call's worth of a java.net.Socket stream), each timed from entry to return or
 * throw; and {@code NioSocketImpl.listen} and {@code ServerSocketChannelImpl.bind}, whose ports
 * make connections inbound. The added code calls {@code sun.nio.ch.JebSocketTiming} (the
 * {@link SocketTimingPoint} copy) and nothing else.
 */
final class SocketTimingTransformer implements ClassFileTransformer {

  static final String CHANNEL = "sun/nio/ch/SocketChannelImpl";
  static final String STREAM = "sun/nio/ch/NioSocketImpl";
  static final String SERVER_CHANNEL = "sun/nio/ch/ServerSocketChannelImpl";
  static final Set<String> CLASSES = Set.of(CHANNEL, STREAM, SERVER_CHANNEL);

  private final String point; // internal name of the copy

  SocketTimingTransformer(String point) {
    this.point = point;
  }

  @Override
  public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined,
      ProtectionDomain domain, byte[] bytes) {
    if (loader != null || !CLASSES.contains(name)) {
      return null;
    }
    try {
      byte[] out = rewrite(name, bytes);
      if (out != null) {
        rewritten.add(name);
        return out;
      }
      failures.put(name, "none of its methods has the shape this agent rewrites");
    } catch (RuntimeException | LinkageError e) {
      failures.put(name, e.toString());
    }
    return null; // the class stays as it was
  }

  /** Classes rewritten so far. */
  final Set<String> rewritten = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Classes left as they were, with why. */
  final java.util.Map<String, String> failures = new java.util.concurrent.ConcurrentHashMap<>();

  byte[] rewrite(String name, byte[] bytes) {
    ClassReader reader = new ClassReader(bytes);
    // Frames are computed again (the added handler merges Throwable into the method's own): the
    // classes ASM then looks up are the JDK's, already loaded.
    ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS | ClassWriter.COMPUTE_FRAMES) {
      @Override
      protected ClassLoader getClassLoader() {
        return ClassLoader.getPlatformClassLoader();
      }
    };
    int[] rewritten = {0};
    Set<String> fields = new java.util.HashSet<>();
    reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
      @Override
      public FieldVisitor visitField(int access, String field, String desc, String signature, Object value) {
        fields.add(field + ":" + desc); // a class's fields come before its methods
        return super.visitField(access, field, desc, signature, value);
      }

      @Override
      public MethodVisitor visitMethod(int access, String method, String desc, String signature, String[] exceptions) {
        MethodVisitor mv = super.visitMethod(access, method, desc, signature, exceptions);
        if ((access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE | Opcodes.ACC_STATIC)) != 0) {
          return mv;
        }
        Kind kind = kind(name, method, desc);
        if (kind == null) {
          return mv;
        }
        // The added code reads these fields: a JDK without them would fail at the first call.
        for (String field : kind.fields) {
          if (!fields.contains(field)) {
            throw new IllegalStateException(name + " has no field " + field);
          }
        }
        rewritten[0]++;
        return new Timed(mv, access, method, desc, kind);
      }
    }, ClassReader.EXPAND_FRAMES);
    return rewritten[0] == 0 ? null : writer.toByteArray();
  }

  private enum Kind {
    CHANNEL_RECEIVE(CHANNEL_FIELDS), CHANNEL_TRANSMIT(CHANNEL_FIELDS), STREAM_RECEIVE(List.of()),
    STREAM_TRANSMIT(List.of()), STREAM_LISTEN(List.of()), CHANNEL_BIND(List.of());

    /**
     * The fields ({@code name:descriptor}) the added code reads that the class itself must declare.
     * NioSocketImpl's address, port and localport are java.net.SocketImpl's, protected fields of the
     * public API: always there.
     */
    final List<String> fields;

    Kind(List<String> fields) {
      this.fields = fields;
    }
  }

  private static final List<String> CHANNEL_FIELDS = List.of("remoteAddress:Ljava/net/SocketAddress;",
      "localAddress:Ljava/net/SocketAddress;");

  static Kind kind(String owner, String method, String desc) {
    switch (owner) {
      case CHANNEL:
        if (desc.equals("(Ljava/nio/ByteBuffer;)I") || desc.equals("([Ljava/nio/ByteBuffer;II)J")) {
          return method.equals("read") ? Kind.CHANNEL_RECEIVE : method.equals("write") ? Kind.CHANNEL_TRANSMIT : null;
        }
        return null;
      case STREAM:
        if (method.equals("implRead") && desc.startsWith("([BII") && desc.endsWith(")I")) {
          return Kind.STREAM_RECEIVE;
        }
        if (method.equals("implWrite") && desc.equals("([BII)I")) {
          return Kind.STREAM_TRANSMIT;
        }
        return method.equals("listen") && desc.equals("(I)V") ? Kind.STREAM_LISTEN : null;
      case SERVER_CHANNEL:
        return method.equals("bind") && desc.equals("(Ljava/net/SocketAddress;I)Ljava/nio/channels/ServerSocketChannel;")
            ? Kind.CHANNEL_BIND : null;
      default:
        return null;
    }
  }

  /** Entry: the start time in a new local; every return and every throw: one call to the point. */
  private final class Timed extends AdviceAdapter {
    private final Kind kind;
    private final Label begin = new Label();
    private final Label handler = new Label();
    private int start;

    Timed(MethodVisitor mv, int access, String name, String desc, Kind kind) {
      super(Opcodes.ASM9, mv, access, name, desc);
      this.kind = kind;
    }

    private boolean timed() {
      return kind != Kind.STREAM_LISTEN && kind != Kind.CHANNEL_BIND;
    }

    private int direction() {
      return kind == Kind.CHANNEL_RECEIVE || kind == Kind.STREAM_RECEIVE ? SocketTimingPoint.RECEIVE
          : SocketTimingPoint.TRANSMIT;
    }

    @Override
    protected void onMethodEnter() {
      if (!timed()) {
        return;
      }
      invokeStatic(Type.getType(System.class), new org.objectweb.asm.commons.Method("nanoTime", "()J"));
      start = newLocal(Type.LONG_TYPE);
      storeLocal(start);
      visitLabel(begin);
    }

    @Override
    protected void onMethodExit(int opcode) {
      if (opcode == ATHROW) {
        return; // the handler below sees every throw, the method's own included
      }
      switch (kind) {
        case STREAM_LISTEN -> {
          loadThis();
          mv.visitFieldInsn(GETFIELD, STREAM, "localport", "I");
          mv.visitMethodInsn(INVOKESTATIC, point, "listening", "(I)V", false);
        }
        case CHANNEL_BIND -> {
          loadThis();
          mv.visitMethodInsn(INVOKESTATIC, point, "listeningChannel", "(Ljava/lang/Object;)V", false);
        }
        case CHANNEL_RECEIVE, CHANNEL_TRANSMIT -> {
          int result = newLocal(Type.LONG_TYPE);
          if (opcode == LRETURN) {
            dup2();
          } else {
            dup();
            mv.visitInsn(I2L);
          }
          storeLocal(result);
          channelArguments();
          loadLocal(start);
          loadLocal(result);
          mv.visitMethodInsn(INVOKESTATIC, point, "channel",
              "(Ljava/lang/Object;Ljava/lang/Object;Ljava/lang/Object;IJJ)V", false);
        }
        case STREAM_RECEIVE, STREAM_TRANSMIT -> {
          int result = newLocal(Type.INT_TYPE);
          dup();
          storeLocal(result);
          streamArguments();
          loadLocal(start);
          loadLocal(result);
          mv.visitMethodInsn(INVOKESTATIC, point, "stream", "(Ljava/net/InetAddress;IIIJI)V", false);
        }
        default -> throw new IllegalStateException(kind.toString());
      }
    }

    private void channelArguments() {
      loadThis();
      loadThis();
      mv.visitFieldInsn(GETFIELD, CHANNEL, "remoteAddress", "Ljava/net/SocketAddress;");
      loadThis();
      mv.visitFieldInsn(GETFIELD, CHANNEL, "localAddress", "Ljava/net/SocketAddress;");
      push(direction());
    }

    private void streamArguments() {
      loadThis();
      mv.visitFieldInsn(GETFIELD, STREAM, "address", "Ljava/net/InetAddress;");
      loadThis();
      mv.visitFieldInsn(GETFIELD, STREAM, "port", "I");
      loadThis();
      mv.visitFieldInsn(GETFIELD, STREAM, "localport", "I");
      push(direction());
    }

    @Override
    public void visitMaxs(int maxStack, int maxLocals) {
      if (timed()) {
        visitLabel(handler);
        int thrown = newLocal(Type.getType(Throwable.class));
        dup();
        storeLocal(thrown);
        if (kind == Kind.CHANNEL_RECEIVE || kind == Kind.CHANNEL_TRANSMIT) {
          loadThis();
          mv.visitFieldInsn(GETFIELD, CHANNEL, "remoteAddress", "Ljava/net/SocketAddress;");
          loadThis();
          mv.visitFieldInsn(GETFIELD, CHANNEL, "localAddress", "Ljava/net/SocketAddress;");
          push(direction());
          loadLocal(start);
          loadLocal(thrown);
          mv.visitMethodInsn(INVOKESTATIC, point, "channelFailed",
              "(Ljava/lang/Object;Ljava/lang/Object;IJLjava/lang/Throwable;)V", false);
        } else {
          streamArguments();
          loadLocal(start);
          loadLocal(thrown);
          mv.visitMethodInsn(INVOKESTATIC, point, "streamFailed",
              "(Ljava/net/InetAddress;IIIJLjava/lang/Throwable;)V", false);
        }
        mv.visitInsn(ATHROW);
        mv.visitTryCatchBlock(begin, handler, handler, "java/lang/Throwable");
      }
      super.visitMaxs(maxStack, maxLocals);
    }
  }
}
