package dev.jvmebpf.agent.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Handle;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.InvokeDynamicInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * A build step, not part of the agent: turns the lambdas and method references of the agent's jars
 * into ordinary classes, so that the agent's start spins none.
 *
 * <p>Each {@code invokedynamic} that {@code LambdaMetafactory} would link costs the JVM a class
 * generated at run time, while interpreted: profiled on Temurin 25, linking them was about a
 * quarter of the agent's start thread and most of what the JIT compiled for it (the JDK's
 * class-file and method-handle code). Here each such call site becomes a call to a static factory
 * of a class written now, {@code Host$$Desugared$N}, in the host's package: a final class with the
 * captured values as fields and the interface's method (and bridges) calling the implementation
 * method, converting arguments and result as the metafactory would (casts, boxing, unboxing,
 * widening). A lambda body is a private synthetic {@code lambda$...} method of its class; it becomes
 * package-private so that the new class may call it (its name is unique, so nothing can override
 * it).
 *
 * <p>Left as they are: serializable lambdas, references to private methods other than lambda bodies
 * (widening them could let a subclass override them), and every other bootstrap.
 *
 * <p>Some JDK methods make their results with lambdas of the JDK's own ({@code Comparator.comparing},
 * {@code Collectors.toList}...), which the JVM spins just the same at their first call. In a jar
 * that holds {@code PlainFunctions}, calls to those the agent's start makes ({@link #REDIRECTED}) go
 * to its copies instead, which have the same descriptors.
 *
 * <p>The rewritten jars store their entries uncompressed: the agent reads about a thousand classes
 * from them at every start, and inflating each was about 40 ms of its start thread (plus what the
 * JIT compiled of the JDK's zip code). The agent's own jar holds them stored too (compressed, they
 * would be inflated whole at every start): about 14 MB instead of 6.
 *
 * <p>Usage: {@code LambdaDesugar <jar> ...}: each jar is rewritten in place.
 */
public final class LambdaDesugar {

  private static final String METAFACTORY = "java/lang/invoke/LambdaMetafactory";

  /** Where the JDK methods of {@link #REDIRECTED} have their lambda-free copies. */
  static final String PLAIN_FUNCTIONS = "dev/jvmebpf/agent/PlainFunctions";
  /**
   * Static JDK methods ({@code owner.name+descriptor}) whose lambdas the agent's start would spin,
   * found by tracing the classes the JVM defined during a start. PlainFunctions has a method of the
   * same name and descriptor for each.
   */
  static final Set<String> REDIRECTED = Set.of(
      "java/util/function/Function.identity()Ljava/util/function/Function;",
      "java/util/Comparator.comparing(Ljava/util/function/Function;)Ljava/util/Comparator;",
      "java/util/Comparator.comparingInt(Ljava/util/function/ToIntFunction;)Ljava/util/Comparator;",
      "java/util/stream/Collectors.toList()Ljava/util/stream/Collector;",
      "java/util/stream/Collectors.toMap(Ljava/util/function/Function;Ljava/util/function/Function;"
          + "Ljava/util/function/BinaryOperator;Ljava/util/function/Supplier;)Ljava/util/stream/Collector;",
      "java/lang/System.getenv()Ljava/util/Map;");
  private static final int FLAG_SERIALIZABLE = 1;
  private static final int FLAG_MARKERS = 2;
  private static final int FLAG_BRIDGES = 4;

  private final Map<String, ClassNode> classes = new LinkedHashMap<>();
  private final Map<String, byte[]> generated = new LinkedHashMap<>();
  private final Set<String> widen = new HashSet<>(); // owner.name+desc of lambda bodies to widen
  private final Set<String> touched = new HashSet<>(); // classes rewritten: sites replaced or bodies widened
  private int sites;
  private int kept;
  private int redirected;

  public static void main(String[] args) throws IOException {
    for (String jar : args) {
      Path path = Path.of(jar);
      LambdaDesugar desugar = new LambdaDesugar();
      Path out = path.resolveSibling(path.getFileName() + ".desugared");
      desugar.rewrite(path, out);
      Files.move(out, path, StandardCopyOption.REPLACE_EXISTING);
      System.out.println("[desugar] " + path.getFileName() + ": " + desugar.sites + " lambda sites made classes, "
          + desugar.kept + " left to the metafactory, " + desugar.redirected + " calls to PlainFunctions");
    }
  }

  /** Rewrites {@code in} into {@code out}: every entry kept, classes desugared, new classes added. */
  void rewrite(Path in, Path out) throws IOException {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    Manifest manifest;
    try (JarInputStream jar = new JarInputStream(Files.newInputStream(in), false)) {
      manifest = jar.getManifest();
      for (JarEntry e; (e = jar.getNextJarEntry()) != null; ) {
        if (!e.isDirectory()) {
          entries.put(e.getName(), jar.readAllBytes());
        }
      }
    }
    Map<String, byte[]> result = desugar(entries);
    try (JarOutputStream jar = manifest == null ? new JarOutputStream(Files.newOutputStream(out))
        : new JarOutputStream(Files.newOutputStream(out), manifest)) {
      for (Map.Entry<String, byte[]> e : result.entrySet()) {
        jar.putNextEntry(stored(e.getKey(), e.getValue()));
        jar.write(e.getValue());
        jar.closeEntry();
      }
    }
  }

  /** An uncompressed entry (a stored entry's size and checksum go before its bytes). */
  private static JarEntry stored(String name, byte[] bytes) {
    JarEntry entry = new JarEntry(name);
    CRC32 crc = new CRC32();
    crc.update(bytes);
    entry.setMethod(ZipEntry.STORED);
    entry.setSize(bytes.length);
    entry.setCompressedSize(bytes.length);
    entry.setCrc(crc.getValue());
    return entry;
  }

  /** The entries with their classes desugared, and the new classes added. */
  Map<String, byte[]> desugar(Map<String, byte[]> entries) {
    for (Map.Entry<String, byte[]> e : entries.entrySet()) {
      if (isClass(e.getKey())) {
        ClassNode node = new ClassNode();
        new ClassReader(e.getValue()).accept(node, 0);
        classes.put(e.getKey(), node);
      }
    }
    for (ClassNode node : classes.values()) {
      rewriteSites(node);
    }
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, byte[]> e : entries.entrySet()) {
      ClassNode node = classes.get(e.getKey());
      if (node == null || !touched.contains(node.name)) {
        out.put(e.getKey(), e.getValue());
        continue;
      }
      for (MethodNode m : node.methods) {
        if (widen.contains(node.name + "." + m.name + m.desc)) {
          m.access &= ~Opcodes.ACC_PRIVATE;
          if ((node.access & Opcodes.ACC_INTERFACE) != 0) {
            m.access |= Opcodes.ACC_PUBLIC;
          }
        }
      }
      ClassWriter writer = new ClassWriter(0); // same stack effect, same frames: nothing to compute
      node.accept(writer);
      out.put(e.getKey(), writer.toByteArray());
    }
    for (Map.Entry<String, byte[]> e : generated.entrySet()) {
      out.put(e.getKey() + ".class", e.getValue());
    }
    return out;
  }

  private static boolean isClass(String name) {
    return name.endsWith(".class") && !name.startsWith("META-INF/") && !name.endsWith("module-info.class");
  }

  private void rewriteSites(ClassNode host) {
    int index = 0;
    boolean redirect = classes.containsKey(PLAIN_FUNCTIONS + ".class") && !host.name.equals(PLAIN_FUNCTIONS);
    for (MethodNode method : host.methods) {
      if (method.instructions == null) {
        continue;
      }
      for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
        if (redirect && insn instanceof MethodInsnNode call && call.getOpcode() == Opcodes.INVOKESTATIC
            && REDIRECTED.contains(call.owner + "." + call.name + call.desc)) {
          call.owner = PLAIN_FUNCTIONS;
          call.itf = false;
          touched.add(host.name);
          redirected++;
          continue;
        }
        if (!(insn instanceof InvokeDynamicInsnNode indy) || !indy.bsm.getOwner().equals(METAFACTORY)) {
          continue;
        }
        Site site = Site.of(indy);
        if (site == null || !accessible(host, site.impl)) {
          kept++;
          if (Boolean.getBoolean("desugar.verbose")) {
            System.out.println("[desugar] left: " + host.name + "." + method.name + " " + indy.bsm.getName() + " "
                + (indy.bsmArgs.length > 1 ? indy.bsmArgs[1] : ""));
          }
          continue;
        }
        String name = host.name + "$$Desugared$" + index++;
        generated.put(name, site.generate(name, host.version));
        MethodInsnNode call = new MethodInsnNode(Opcodes.INVOKESTATIC, name, "create", indy.desc, false);
        method.instructions.set(indy, call);
        insn = call;
        touched.add(host.name);
        sites++;
      }
    }
  }

  /**
   * Whether a class of the host's package may call {@code impl}: lambda bodies of this jar are
   * widened for it; other private methods are not, so those sites stay.
   */
  private boolean accessible(ClassNode host, Handle impl) {
    ClassNode owner = classes.get(impl.getOwner() + ".class");
    if (owner == null) {
      // another jar's or the JDK's: javac only references what the host can reach publicly
      return impl.getTag() != Opcodes.H_INVOKESPECIAL;
    }
    for (MethodNode m : owner.methods) {
      if (m.name.equals(impl.getName()) && m.desc.equals(impl.getDesc())) {
        if ((m.access & Opcodes.ACC_PRIVATE) == 0) {
          // invokespecial of a method that is not private is a call to a superclass's: not ours to change
          return impl.getTag() != Opcodes.H_INVOKESPECIAL
              && ((m.access & Opcodes.ACC_PROTECTED) == 0 || samePackage(host.name, owner.name));
        }
        if (!m.name.startsWith("lambda$") || !samePackage(host.name, owner.name)) {
          return false;
        }
        widen.add(owner.name + "." + m.name + m.desc);
        touched.add(owner.name);
        return true;
      }
    }
    return false;
  }

  private static boolean samePackage(String a, String b) {
    int i = a.lastIndexOf('/');
    int j = b.lastIndexOf('/');
    return i == j && (i < 0 || a.regionMatches(0, b, 0, i));
  }

  /** One metafactory call site: what the generated class implements and calls. */
  private record Site(String iface, String method, Type factory, Type sam, Handle impl, Type instantiated,
      List<String> markers, List<Type> bridges) {

    static Site of(InvokeDynamicInsnNode indy) {
      Object[] args = indy.bsmArgs;
      if (args.length < 3 || !(args[0] instanceof Type sam) || !(args[1] instanceof Handle impl)
          || !(args[2] instanceof Type instantiated)) {
        return null;
      }
      List<String> markers = new ArrayList<>();
      List<Type> bridges = new ArrayList<>();
      if (indy.bsm.getName().equals("altMetafactory")) {
        int flags = (Integer) args[3];
        if ((flags & FLAG_SERIALIZABLE) != 0) {
          return null;
        }
        int at = 4;
        if ((flags & FLAG_MARKERS) != 0) {
          int count = (Integer) args[at++];
          for (int i = 0; i < count; i++) {
            markers.add(((Type) args[at++]).getInternalName());
          }
        }
        if ((flags & FLAG_BRIDGES) != 0) {
          int count = (Integer) args[at++];
          for (int i = 0; i < count; i++) {
            bridges.add((Type) args[at++]);
          }
        }
      } else if (!indy.bsm.getName().equals("metafactory")) {
        return null;
      }
      Type factory = Type.getMethodType(indy.desc);
      return new Site(factory.getReturnType().getInternalName(), indy.name, factory, sam, impl, instantiated,
          markers, bridges);
    }

    byte[] generate(String name, int version) {
      ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
      List<String> interfaces = new ArrayList<>();
      interfaces.add(iface);
      interfaces.addAll(markers);
      cw.visit(version, Opcodes.ACC_FINAL | Opcodes.ACC_SUPER | Opcodes.ACC_SYNTHETIC, name, null,
          "java/lang/Object", interfaces.toArray(new String[0]));
      Type[] captured = factory.getArgumentTypes();
      for (int i = 0; i < captured.length; i++) {
        cw.visitField(Opcodes.ACC_PRIVATE | Opcodes.ACC_FINAL, "arg" + i, captured[i].getDescriptor(), null, null)
            .visitEnd();
      }
      String ctorDesc = Type.getMethodDescriptor(Type.VOID_TYPE, captured);
      MethodVisitor ctor = cw.visitMethod(Opcodes.ACC_PRIVATE, "<init>", ctorDesc, null, null);
      ctor.visitCode();
      ctor.visitVarInsn(Opcodes.ALOAD, 0);
      ctor.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
      int slot = 1;
      for (int i = 0; i < captured.length; i++) {
        ctor.visitVarInsn(Opcodes.ALOAD, 0);
        ctor.visitVarInsn(captured[i].getOpcode(Opcodes.ILOAD), slot);
        ctor.visitFieldInsn(Opcodes.PUTFIELD, name, "arg" + i, captured[i].getDescriptor());
        slot += captured[i].getSize();
      }
      ctor.visitInsn(Opcodes.RETURN);
      ctor.visitMaxs(0, 0);
      ctor.visitEnd();

      // The factory: a new instance per call when values are captured, else one shared instance.
      MethodVisitor create = cw.visitMethod(Opcodes.ACC_STATIC, "create", factory.getDescriptor(), null, null);
      create.visitCode();
      if (captured.length == 0) {
        cw.visitField(Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC | Opcodes.ACC_FINAL, "INSTANCE", "L" + name + ";",
            null, null).visitEnd();
        MethodVisitor clinit = cw.visitMethod(Opcodes.ACC_STATIC, "<clinit>", "()V", null, null);
        clinit.visitCode();
        clinit.visitTypeInsn(Opcodes.NEW, name);
        clinit.visitInsn(Opcodes.DUP);
        clinit.visitMethodInsn(Opcodes.INVOKESPECIAL, name, "<init>", "()V", false);
        clinit.visitFieldInsn(Opcodes.PUTSTATIC, name, "INSTANCE", "L" + name + ";");
        clinit.visitInsn(Opcodes.RETURN);
        clinit.visitMaxs(0, 0);
        clinit.visitEnd();
        create.visitFieldInsn(Opcodes.GETSTATIC, name, "INSTANCE", "L" + name + ";");
      } else {
        create.visitTypeInsn(Opcodes.NEW, name);
        create.visitInsn(Opcodes.DUP);
        slot = 0;
        for (Type t : captured) {
          create.visitVarInsn(t.getOpcode(Opcodes.ILOAD), slot);
          slot += t.getSize();
        }
        create.visitMethodInsn(Opcodes.INVOKESPECIAL, name, "<init>", ctorDesc, false);
      }
      create.visitInsn(Opcodes.ARETURN);
      create.visitMaxs(0, 0);
      create.visitEnd();

      Set<String> done = new HashSet<>();
      List<Type> shapes = new ArrayList<>();
      shapes.add(sam);
      shapes.addAll(bridges);
      for (Type shape : shapes) {
        if (done.add(shape.getDescriptor())) {
          implement(cw, name, captured, shape, shape == sam ? 0 : Opcodes.ACC_BRIDGE | Opcodes.ACC_SYNTHETIC);
        }
      }
      cw.visitEnd();
      return cw.toByteArray();
    }

    /** The interface method of {@code shape}: captured values, then its arguments, to the implementation. */
    private void implement(ClassWriter cw, String name, Type[] captured, Type shape, int extraAccess) {
      MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | extraAccess, method, shape.getDescriptor(), null, null);
      mv.visitCode();
      int kind = impl.getTag();
      Type implType = Type.getMethodType(impl.getDesc());
      List<Type> wanted = new ArrayList<>();
      if (kind == Opcodes.H_INVOKEVIRTUAL || kind == Opcodes.H_INVOKEINTERFACE || kind == Opcodes.H_INVOKESPECIAL) {
        wanted.add(Type.getObjectType(impl.getOwner())); // the receiver comes first
      }
      wanted.addAll(List.of(implType.getArgumentTypes()));
      if (kind == Opcodes.H_NEWINVOKESPECIAL) {
        mv.visitTypeInsn(Opcodes.NEW, impl.getOwner());
        mv.visitInsn(Opcodes.DUP);
      }
      int next = 0;
      for (int i = 0; i < captured.length; i++, next++) {
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitFieldInsn(Opcodes.GETFIELD, name, "arg" + i, captured[i].getDescriptor());
        convert(mv, captured[i], wanted.get(next));
      }
      Type[] given = shape.getArgumentTypes();
      Type[] instantiatedArgs = instantiated.getArgumentTypes();
      int slot = 1;
      for (int i = 0; i < given.length; i++, next++) {
        mv.visitVarInsn(given[i].getOpcode(Opcodes.ILOAD), slot);
        slot += given[i].getSize();
        Type through = i < instantiatedArgs.length ? instantiatedArgs[i] : given[i];
        convert(mv, given[i], through);
        convert(mv, through, wanted.get(next));
      }
      Type returned;
      switch (kind) {
        case Opcodes.H_INVOKESTATIC -> {
          mv.visitMethodInsn(Opcodes.INVOKESTATIC, impl.getOwner(), impl.getName(), impl.getDesc(), impl.isInterface());
          returned = implType.getReturnType();
        }
        case Opcodes.H_INVOKEVIRTUAL, Opcodes.H_INVOKESPECIAL -> {
          // A lambda body made package-private is called as any other instance method of its class.
          boolean onInterface = impl.isInterface();
          mv.visitMethodInsn(onInterface ? Opcodes.INVOKEINTERFACE : Opcodes.INVOKEVIRTUAL, impl.getOwner(),
              impl.getName(), impl.getDesc(), onInterface);
          returned = implType.getReturnType();
        }
        case Opcodes.H_INVOKEINTERFACE -> {
          mv.visitMethodInsn(Opcodes.INVOKEINTERFACE, impl.getOwner(), impl.getName(), impl.getDesc(), true);
          returned = implType.getReturnType();
        }
        case Opcodes.H_NEWINVOKESPECIAL -> {
          mv.visitMethodInsn(Opcodes.INVOKESPECIAL, impl.getOwner(), "<init>", impl.getDesc(), false);
          returned = Type.getObjectType(impl.getOwner());
        }
        default -> throw new IllegalStateException("method handle kind " + kind);
      }
      Type result = shape.getReturnType();
      if (result.getSort() == Type.VOID) {
        if (returned.getSize() > 0) {
          mv.visitInsn(returned.getSize() == 2 ? Opcodes.POP2 : Opcodes.POP);
        }
        mv.visitInsn(Opcodes.RETURN);
      } else {
        Type through = instantiated.getReturnType().getSort() == Type.VOID ? result : instantiated.getReturnType();
        convert(mv, returned, through);
        convert(mv, through, result);
        mv.visitInsn(result.getOpcode(Opcodes.IRETURN));
      }
      mv.visitMaxs(0, 0);
      mv.visitEnd();
    }
  }

  /** Converts the value on the stack from {@code from} to {@code to}, as the metafactory adapts. */
  static void convert(MethodVisitor mv, Type from, Type to) {
    if (from.equals(to)) {
      return;
    }
    boolean fromPrimitive = from.getSort() < Type.ARRAY;
    boolean toPrimitive = to.getSort() < Type.ARRAY;
    if (fromPrimitive && toPrimitive) {
      widen(mv, from, to);
    } else if (fromPrimitive) {
      Type box = box(from);
      mv.visitMethodInsn(Opcodes.INVOKESTATIC, box.getInternalName(), "valueOf",
          Type.getMethodDescriptor(box, from), false);
      if (!to.equals(box) && !to.getInternalName().equals("java/lang/Object")) {
        mv.visitTypeInsn(Opcodes.CHECKCAST, to.getInternalName());
      }
    } else if (toPrimitive) {
      Type unboxed = unbox(from);
      if (unboxed == null) {
        Type box = box(to);
        mv.visitTypeInsn(Opcodes.CHECKCAST, box.getInternalName());
        mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, box.getInternalName(), to.getClassName() + "Value",
            Type.getMethodDescriptor(to), false);
      } else {
        mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, from.getInternalName(), unboxed.getClassName() + "Value",
            Type.getMethodDescriptor(unboxed), false);
        widen(mv, unboxed, to);
      }
    } else if (!to.getInternalName().equals("java/lang/Object")) {
      mv.visitTypeInsn(Opcodes.CHECKCAST, to.getInternalName());
    }
  }

  private static void widen(MethodVisitor mv, Type from, Type to) {
    int f = from.getSort();
    int t = to.getSort();
    if (f == t) {
      return;
    }
    boolean fromInt = f == Type.BOOLEAN || f == Type.CHAR || f == Type.BYTE || f == Type.SHORT || f == Type.INT;
    if (fromInt && (t == Type.INT || t == Type.SHORT || t == Type.CHAR || t == Type.BYTE)) {
      return;
    }
    if (fromInt) {
      f = Type.INT;
    }
    int op = switch (f * 16 + t) {
      case Type.INT * 16 + Type.LONG -> Opcodes.I2L;
      case Type.INT * 16 + Type.FLOAT -> Opcodes.I2F;
      case Type.INT * 16 + Type.DOUBLE -> Opcodes.I2D;
      case Type.LONG * 16 + Type.FLOAT -> Opcodes.L2F;
      case Type.LONG * 16 + Type.DOUBLE -> Opcodes.L2D;
      case Type.FLOAT * 16 + Type.DOUBLE -> Opcodes.F2D;
      default -> throw new IllegalStateException("no widening from " + from + " to " + to);
    };
    mv.visitInsn(op);
  }

  private static Type box(Type primitive) {
    return Type.getObjectType(switch (primitive.getSort()) {
      case Type.BOOLEAN -> "java/lang/Boolean";
      case Type.CHAR -> "java/lang/Character";
      case Type.BYTE -> "java/lang/Byte";
      case Type.SHORT -> "java/lang/Short";
      case Type.INT -> "java/lang/Integer";
      case Type.LONG -> "java/lang/Long";
      case Type.FLOAT -> "java/lang/Float";
      case Type.DOUBLE -> "java/lang/Double";
      default -> throw new IllegalStateException("not primitive: " + primitive);
    });
  }

  /** The primitive a wrapper type holds, or null when {@code type} is no wrapper. */
  private static Type unbox(Type type) {
    return switch (type.getInternalName()) {
      case "java/lang/Boolean" -> Type.BOOLEAN_TYPE;
      case "java/lang/Character" -> Type.CHAR_TYPE;
      case "java/lang/Byte" -> Type.BYTE_TYPE;
      case "java/lang/Short" -> Type.SHORT_TYPE;
      case "java/lang/Integer" -> Type.INT_TYPE;
      case "java/lang/Long" -> Type.LONG_TYPE;
      case "java/lang/Float" -> Type.FLOAT_TYPE;
      case "java/lang/Double" -> Type.DOUBLE_TYPE;
      default -> null;
    };
  }
}
