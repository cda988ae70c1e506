package dev.jvmebpf.bpf.btf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java mirror of a C struct shared with a BPF program. Members are declared in C order with
 * their C types; offsets follow the C alignment rules (the shared headers have no implicit
 * padding, so this is a plain running sum). {@code KernelLayoutTest} checks every mirror
 * against the compiled object's BTF, so a header change that is not mirrored fails the build.
 */
public final class StructLayout {

  /** A member; {@code length} is the element count for arrays, 1 otherwise. */
  public record Member(String name, int offset, int size, int length, StructLayout nested) {}

  private final String name;
  private final int size;
  private final Map<String, Member> members;

  private StructLayout(String name, int size, Map<String, Member> members) {
    this.name = name;
    this.size = size;
    this.members = members;
  }

  public static Builder struct(String cName) {
    return new Builder(cName);
  }

  public String name() {
    return name;
  }

  public int size() {
    return size;
  }

  public List<Member> members() {
    return List.copyOf(members.values());
  }

  public int offset(String member) {
    return member(member).offset();
  }

  public Member member(String member) {
    Member m = members.get(member);
    if (m == null) {
      throw new IllegalArgumentException("struct " + name + " has no member " + member);
    }
    return m;
  }

  /** A zeroed little-endian buffer of this struct's size. */
  public ByteBuffer allocate() {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Builds a layout member by member. */
  public static final class Builder {
    private final String name;
    private final Map<String, Member> members = new LinkedHashMap<>();
    private int offset;
    private int alignment = 1;

    private Builder(String name) {
      this.name = name;
    }

    public Builder u8(String member) {
      return add(member, 1, 1, 1, null);
    }

    public Builder u16(String member) {
      return add(member, 2, 2, 1, null);
    }

    public Builder u8Array(String member, int length) {
      return chars(member, length);
    }

    public Builder u32(String member) {
      return add(member, 4, 4, 1, null);
    }

    public Builder s32(String member) {
      return u32(member);
    }

    public Builder u64(String member) {
      return add(member, 8, 8, 1, null);
    }

    public Builder s64(String member) {
      return u64(member);
    }

    public Builder u64Array(String member, int length) {
      return add(member, 8, 8 * length, length, null);
    }

    public Builder u32Array(String member, int length) {
      return add(member, 4, 4 * length, length, null);
    }

    public Builder chars(String member, int length) {
      return add(member, 1, length, length, null);
    }

    public Builder struct(String member, StructLayout nested) {
      return add(member, nested.alignment(), nested.size(), 1, nested);
    }

    public StructLayout build() {
      int size = (offset + alignment - 1) / alignment * alignment;
      return new StructLayout(name, size, new LinkedHashMap<>(members));
    }

    private Builder add(String member, int align, int bytes, int length, StructLayout nested) {
      offset = (offset + align - 1) / align * align;
      members.put(member, new Member(member, offset, bytes, length, nested));
      offset += bytes;
      alignment = Math.max(alignment, align);
      return this;
    }
  }

  private int alignment() {
    int align = 1;
    for (Member m : members.values()) {
      int memberAlign = m.nested() != null ? m.nested().alignment() : Math.min(8, m.size() / m.length());
      align = Math.max(align, memberAlign);
    }
    return align;
  }

  /** Names of the members, in order (for messages). */
  public List<String> memberNames() {
    return new ArrayList<>(members.keySet());
  }
}
