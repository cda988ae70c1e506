package dev.jvmebpf.bpf.btf;

import dev.jvmebpf.bpf.elf.ElfFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The type information (.BTF section) of a compiled BPF object: enough of it to know struct
 * layouts, enum values and where each global variable sits in a data section. Deterministic,
 * no syscalls, no privileges.
 */
public final class Btf {

  static final int KIND_INT = 1;
  static final int KIND_PTR = 2;
  static final int KIND_ARRAY = 3;
  static final int KIND_STRUCT = 4;
  static final int KIND_UNION = 5;
  static final int KIND_ENUM = 6;
  static final int KIND_FWD = 7;
  static final int KIND_TYPEDEF = 8;
  static final int KIND_VOLATILE = 9;
  static final int KIND_CONST = 10;
  static final int KIND_RESTRICT = 11;
  static final int KIND_FUNC = 12;
  static final int KIND_FUNC_PROTO = 13;
  static final int KIND_VAR = 14;
  static final int KIND_DATASEC = 15;
  static final int KIND_FLOAT = 16;
  static final int KIND_DECL_TAG = 17;
  static final int KIND_TYPE_TAG = 18;
  static final int KIND_ENUM64 = 19;

  /** A struct member; offset and size in bytes (bitfields are not used in our headers). */
  public record Member(String name, int offset, int size) {}

  /** A struct with its members in declaration order. */
  public record Struct(String name, int size, List<Member> members) {
    public Optional<Member> member(String memberName) {
      return members.stream().filter(m -> m.name().equals(memberName)).findFirst();
    }
  }

  /** A global variable's place in a data section such as .rodata. */
  public record Variable(String name, int offset, int size) {}

  private record Type(int kind, String name, int sizeOrType, int vlen, boolean kindFlag, int[] extra) {}

  private final List<Type> types = new ArrayList<>();
  private final byte[] strings;

  private Btf(ByteBuffer btf) throws IOException {
    btf.order(ByteOrder.LITTLE_ENDIAN);
    if (Short.toUnsignedInt(btf.getShort(0)) != 0xeb9f) {
      throw new IOException("not BTF (bad magic)");
    }
    int headerLength = btf.getInt(4);
    int typeOffset = headerLength + btf.getInt(8);
    int typeLength = btf.getInt(12);
    int stringOffset = headerLength + btf.getInt(16);
    int stringLength = btf.getInt(20);
    strings = new byte[stringLength];
    btf.get(stringOffset, strings);
    types.add(new Type(0, "void", 0, 0, false, new int[0]));
    int at = typeOffset;
    int end = typeOffset + typeLength;
    while (at < end) {
      int nameOff = btf.getInt(at);
      int info = btf.getInt(at + 4);
      int sizeOrType = btf.getInt(at + 8);
      int vlen = info & 0xffff;
      int kind = (info >>> 24) & 0x1f;
      boolean kindFlag = (info >>> 31) != 0;
      at += 12;
      int words = switch (kind) {
        case KIND_INT, KIND_VAR, KIND_DECL_TAG -> 1;
        case KIND_ARRAY -> 3;
        case KIND_STRUCT, KIND_UNION, KIND_DATASEC, KIND_ENUM64 -> 3 * vlen;
        case KIND_ENUM, KIND_FUNC_PROTO -> 2 * vlen;
        case KIND_PTR, KIND_FWD, KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_FUNC,
            KIND_FLOAT, KIND_TYPE_TAG -> 0;
        default -> throw new IOException("unknown BTF kind " + kind);
      };
      int[] extra = new int[words];
      for (int i = 0; i < words; i++) {
        extra[i] = btf.getInt(at + 4 * i);
      }
      at += 4 * words;
      types.add(new Type(kind, name(nameOff), sizeOrType, vlen, kindFlag, extra));
    }
  }

  /** Reads the .BTF section of a compiled BPF object. */
  public static Btf of(ElfFile object) throws IOException {
    ElfFile.Section section = object.section(".BTF")
        .orElseThrow(() -> new IOException(object.origin() + ": no .BTF section (compile with -g)"));
    return new Btf(object.contents(section));
  }

  public Optional<Struct> struct(String name) {
    for (Type type : types) {
      if (type.kind() == KIND_STRUCT && type.name().equals(name)) {
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < type.vlen(); i++) {
          int memberName = type.extra()[3 * i];
          int memberType = type.extra()[3 * i + 1];
          int offsetBits = type.extra()[3 * i + 2];
          if (type.kindFlag()) {
            offsetBits &= 0xffffff;
          }
          members.add(new Member(name(memberName), offsetBits / 8, sizeOf(memberType)));
        }
        return Optional.of(new Struct(name, type.sizeOrType(), List.copyOf(members)));
      }
    }
    return Optional.empty();
  }

  /** The enumerators of a named enum, in declaration order. */
  public Optional<Map<String, Long>> enumeration(String name) {
    for (Type type : types) {
      if ((type.kind() == KIND_ENUM || type.kind() == KIND_ENUM64) && type.name().equals(name)) {
        Map<String, Long> values = new LinkedHashMap<>();
        for (int i = 0; i < type.vlen(); i++) {
          if (type.kind() == KIND_ENUM) {
            values.put(name(type.extra()[2 * i]), (long) type.extra()[2 * i + 1]);
          } else {
            long value = Integer.toUnsignedLong(type.extra()[3 * i + 1])
                | ((long) type.extra()[3 * i + 2] << 32);
            values.put(name(type.extra()[3 * i]), value);
          }
        }
        return Optional.of(values);
      }
    }
    return Optional.empty();
  }

  /** The variables of a data section (.rodata, .bss, .data) with their offsets. */
  public List<Variable> dataSection(String sectionName) {
    for (Type type : types) {
      if (type.kind() == KIND_DATASEC && type.name().equals(sectionName)) {
        List<Variable> variables = new ArrayList<>();
        for (int i = 0; i < type.vlen(); i++) {
          Type variable = types.get(type.extra()[3 * i]);
          variables.add(new Variable(variable.name(), type.extra()[3 * i + 1], type.extra()[3 * i + 2]));
        }
        return List.copyOf(variables);
      }
    }
    return List.of();
  }

  /** Size in bytes of a type, following typedefs and qualifiers. */
  int sizeOf(int typeId) {
    Type type = types.get(typeId);
    return switch (type.kind()) {
      case KIND_INT, KIND_STRUCT, KIND_UNION, KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_DATASEC ->
          type.sizeOrType();
      case KIND_PTR -> 8;
      case KIND_ARRAY -> type.extra()[2] * sizeOf(type.extra()[0]);
      case KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_TYPE_TAG, KIND_VAR ->
          sizeOf(type.sizeOrType());
      default -> 0;
    };
  }

  private String name(int offset) {
    if (offset < 0 || offset >= strings.length) {
      return "";
    }
    int end = offset;
    while (end < strings.length && strings[end] != 0) {
      end++;
    }
    return new String(strings, offset, end - offset, StandardCharsets.UTF_8);
  }
}
