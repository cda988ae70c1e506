package dev.jvmebpf.agent.build;

import dev.jvmebpf.agent.JavaBaseClasses;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.FieldVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.commons.ClassRemapper;
import org.objectweb.asm.commons.SimpleRemapper;

/**
 * A build step, not part of the agent: writes, next to each class that {@code JavaBaseClasses}
 * defines inside java.base (a template: it declares {@value #NAME_FIELD}, its name there), the
 * template renamed to that name, as {@code <SimpleName>.java-base}. The agent's start then defines
 * those bytes as they are; renaming at run time took ASM's remapper about 25 ms of every start,
 * plus what the JIT compiled of it.
 *
 * <p>Usage: {@code JavaBaseTemplates <classes directory>}.
 */
public final class JavaBaseTemplates {

  private static final String NAME_FIELD = JavaBaseClasses.NAME_FIELD;
  private static final String SUFFIX = JavaBaseClasses.COPY_SUFFIX;

  private JavaBaseTemplates() {}

  public static void main(String[] args) throws IOException {
    List<Path> written = write(Path.of(args[0]));
    System.out.println("[java-base] " + written.size() + " templates renamed: " + written);
  }

  /** Writes the renamed copy of every template under {@code classes}; returns the files written. */
  public static List<Path> write(Path classes) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(classes)) {
      files = walk.filter(p -> p.toString().endsWith(".class")).sorted().toList();
    }
    List<Path> written = new ArrayList<>();
    for (Path file : files) {
      byte[] bytes = Files.readAllBytes(file);
      String target = javaBaseName(bytes);
      if (target == null) {
        continue;
      }
      Path out = file.resolveSibling(file.getFileName().toString().replace(".class", SUFFIX));
      Files.write(out, renamed(bytes, target));
      written.add(out);
    }
    return written;
  }

  /** The template's {@value #NAME_FIELD}, or null when the class is not a template. */
  static String javaBaseName(byte[] classFile) {
    String[] name = {null};
    new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
      @Override
      public FieldVisitor visitField(int access, String field, String descriptor, String signature, Object value) {
        int constant = Opcodes.ACC_STATIC | Opcodes.ACC_FINAL;
        if (field.equals(NAME_FIELD) && (access & constant) == constant && value instanceof String s) {
          name[0] = s;
        }
        return null;
      }
    }, ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
    return name[0];
  }

  /** The class renamed to {@code internalName}, every reference to itself included. */
  static byte[] renamed(byte[] classFile, String internalName) {
    ClassReader reader = new ClassReader(classFile);
    ClassWriter writer = new ClassWriter(0);
    reader.accept(new ClassRemapper(writer, new SimpleRemapper(Opcodes.ASM9, reader.getClassName(), internalName)), 0);
    return writer.toByteArray();
  }
}
