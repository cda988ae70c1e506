package dev.jvmebpf.bpf.heapalloc;

import dev.jvmebpf.bpf.process.ProcessMemory;
import dev.jvmebpf.bpf.process.VmStructs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Names the classes behind the {@code Klass*} pointers that the allocation probes capture:
 * {@code Klass::_name} is a {@code Symbol*}, whose {@code _length} bytes of {@code _body} are
 * the class's internal name. All three offsets come from this JVM's own VMStructs table.
 */
final class KlassNames implements AutoCloseable {

  private final ProcessMemory memory;
  private final long nameOffset;
  private final long lengthOffset;
  private final long bodyOffset;

  KlassNames(VmStructs structs) throws IOException {
    this.nameOffset = structs.offsetOf("Klass", "_name");
    this.lengthOffset = structs.offsetOf("Symbol", "_length");
    this.bodyOffset = structs.offsetOf("Symbol", "_body");
    this.memory = ProcessMemory.self();
  }

  /** The Java name of the class at {@code klass} ("byte[]", "java.lang.String"). */
  String nameOf(long klass) throws IOException {
    long symbol = memory.readLong(klass + nameOffset);
    if (symbol == 0) {
      throw new IOException("Klass at 0x" + Long.toHexString(klass) + " has no name");
    }
    int length = Short.toUnsignedInt(memory.read(symbol + lengthOffset, 2).getShort());
    ByteBuffer body = memory.read(symbol + bodyOffset, length);
    // Symbols hold modified UTF-8; class names are plain UTF-8 in practice.
    return javaName(new String(body.array(), 0, length, StandardCharsets.UTF_8));
  }

  /**
   * An internal class name in the form Java code writes it: {@code [B} is {@code byte[]},
   * {@code [Ljava/lang/String;} is {@code java.lang.String[]}, {@code java/util/List} is
   * {@code java.util.List}. A hidden class keeps its {@code /0x...} suffix.
   */
  static String javaName(String internal) {
    int dims = 0;
    while (dims < internal.length() && internal.charAt(dims) == '[') {
      dims++;
    }
    String element = internal.substring(dims);
    if (dims > 0) {
      element = switch (element) {
        case "B" -> "byte";
        case "C" -> "char";
        case "D" -> "double";
        case "F" -> "float";
        case "I" -> "int";
        case "J" -> "long";
        case "S" -> "short";
        case "Z" -> "boolean";
        default -> element.startsWith("L") && element.endsWith(";")
            ? element.substring(1, element.length() - 1) : element;
      };
    }
    int hidden = element.indexOf("/0x");
    String dotted = hidden < 0 ? element.replace('/', '.')
        : element.substring(0, hidden).replace('/', '.') + element.substring(hidden);
    return dotted + "[]".repeat(dims);
  }

  @Override
  public void close() throws IOException {
    memory.close();
  }
}
