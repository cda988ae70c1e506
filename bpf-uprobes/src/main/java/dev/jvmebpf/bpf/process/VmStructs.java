package dev.jvmebpf.bpf.process;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The field offsets that the running HotSpot JVM publishes about itself: the {@code VMStructs}
 * table behind the exported {@code gHotSpotVMStructs}, which the Serviceability Agent reads too.
 * Each entry names a C++ type and field and gives its offset (instance fields) or address (static
 * fields) in <em>this</em> build, so nothing here is hard-coded per JDK version.
 *
 * <p>The table and its entries' layout (the {@code gHotSpotVMStructEntry*Offset} variables) are
 * read from our own memory through {@link ProcessMemory}.
 */
public final class VmStructs {

  /** One entry: an instance field's offset, or a static field's address. */
  public record Field(String type, String field, String typeString, boolean isStatic, long offset, long address) {}

  private final Map<String, Field> fields;

  private VmStructs(Map<String, Field> fields) {
    this.fields = Map.copyOf(fields);
  }

  /**
   * Reads the entries of the C++ types {@code types} (e.g. "Klass") from the table of the JVM we
   * run in. Entries of other types are skipped by their names' bytes: the table has some 2,000
   * entries, and decoding all their names took the start about 12 ms and a share of the JIT.
   */
  public static VmStructs of(JvmProcess jvm, Set<String> types) throws IOException {
    byte[][] wanted = new byte[types.size()][];
    int w = 0;
    for (String type : types) {
      wanted[w++] = type.getBytes(StandardCharsets.UTF_8);
    }
    List<String> columns = List.of("TypeName", "FieldName", "TypeString", "IsStatic", "Offset", "Address");
    List<String> symbols = new ArrayList<>(List.of(TABLE, STRIDE));
    columns.forEach(what -> symbols.add(entryOffsetSymbol(what)));
    Map<String, Long> addresses = jvm.libjvmAddresses(symbols);
    for (String symbol : symbols) {
      if (!addresses.containsKey(symbol)) {
        throw new IOException(jvm.libjvm() + " exports no " + symbol);
      }
    }
    long table = addresses.get(TABLE);
    try (ProcessMemory memory = ProcessMemory.self()) {
      long typeNameAt = memory.readLong(addresses.get(entryOffsetSymbol("TypeName")));
      long fieldNameAt = memory.readLong(addresses.get(entryOffsetSymbol("FieldName")));
      long typeStringAt = memory.readLong(addresses.get(entryOffsetSymbol("TypeString")));
      long isStaticAt = memory.readLong(addresses.get(entryOffsetSymbol("IsStatic")));
      long offsetAt = memory.readLong(addresses.get(entryOffsetSymbol("Offset")));
      long addressAt = memory.readLong(addresses.get(entryOffsetSymbol("Address")));
      long stride = memory.readLong(addresses.get(STRIDE));
      if (stride <= 0 || stride > 256) {
        throw new IOException("implausible VMStructs entry stride " + stride);
      }
      long entry = memory.readLong(table);
      Map<String, Field> fields = new HashMap<>();
      // The names are string literals of libjvm, many entries to a page: each page is read once
      // (some 2,000 entries of three names each were as many system calls).
      Map<Long, ByteBuffer> pages = new HashMap<>();
      // The table ends with an entry whose type name is NULL; bound the walk all the same. Entries
      // are read BATCH at a time; a batch may run past the table's end into other data.
      ByteBuffer batch = ByteBuffer.allocate(0);
      for (int i = 0; i < 20_000; i++, entry += stride) {
        if (i % BATCH == 0) {
          batch = readUpTo(memory, entry, (int) stride * BATCH, (int) stride);
        }
        int at = (int) (i % BATCH * stride);
        if (at + stride > batch.limit()) {
          break;
        }
        long typeName = batch.getLong(at + (int) typeNameAt);
        if (typeName == 0) {
          return new VmStructs(fields);
        }
        if (!isOneOf(memory, pages, typeName, wanted)) {
          continue;
        }
        long fieldName = batch.getLong(at + (int) fieldNameAt);
        long typeString = batch.getLong(at + (int) typeStringAt);
        Field field = new Field(string(memory, pages, typeName),
            fieldName == 0 ? "" : string(memory, pages, fieldName),
            typeString == 0 ? "" : string(memory, pages, typeString),
            batch.getInt(at + (int) isStaticAt) != 0, batch.getLong(at + (int) offsetAt),
            batch.getLong(at + (int) addressAt));
        fields.put(field.type() + "::" + field.field(), field);
      }
      throw new IOException("VMStructs table has no end marker within 20000 entries");
    }
  }

  /** Entries read at a time. */
  private static final int BATCH = 256;
  private static final int PAGE = 4096;
  private static final int MAX_NAME = 128;

  /** {@code length} bytes at {@code address}, or fewer (at least {@code atLeast}) where the mapping ends. */
  private static ByteBuffer readUpTo(ProcessMemory memory, long address, int length, int atLeast) throws IOException {
    for (int n = length; ; n /= 2) {
      try {
        return memory.read(address, n);
      } catch (IOException e) {
        if (n / 2 < atLeast) {
          throw e;
        }
      }
    }
  }

  /** Whether the NUL-terminated name at {@code address} is one of {@code names}, read through the page cache. */
  private static boolean isOneOf(ProcessMemory memory, Map<Long, ByteBuffer> pages, long address, byte[][] names)
      throws IOException {
    for (byte[] name : names) {
      boolean same = true;
      for (int i = 0; same && i <= name.length; i++) {
        byte b = page(memory, pages, address + i).get((int) ((address + i) & (PAGE - 1)));
        same = i < name.length ? b == name[i] : b == 0;
      }
      if (same) {
        return true;
      }
    }
    return false;
  }

  private static ByteBuffer page(ProcessMemory memory, Map<Long, ByteBuffer> pages, long address) throws IOException {
    long page = address & -PAGE;
    ByteBuffer bytes = pages.get(page);
    if (bytes == null) {
      bytes = memory.read(page, PAGE);
      pages.put(page, bytes);
    }
    return bytes;
  }

  /** The NUL-terminated name (at most MAX_NAME bytes) at {@code address}, through a cache of pages. */
  private static String string(ProcessMemory memory, Map<Long, ByteBuffer> pages, long address) throws IOException {
    StringBuilder out = new StringBuilder();
    for (long at = address; at < address + MAX_NAME; ) {
      long page = at & -PAGE;
      ByteBuffer bytes = page(memory, pages, page);
      for (int i = (int) (at - page); i < PAGE && at < address + MAX_NAME; i++, at++) {
        byte b = bytes.get(i);
        if (b == 0) {
          return new String(out.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        }
        out.append((char) (b & 0xff));
      }
    }
    return new String(out.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
  }

  private static final String TABLE = "gHotSpotVMStructs";
  private static final String STRIDE = "gHotSpotVMStructEntryArrayStride";

  private static String entryOffsetSymbol(String what) {
    return "gHotSpotVMStructEntry" + what + "Offset";
  }

  /** The entry for {@code type::field}, e.g. {@code Klass::_name}. */
  public Optional<Field> field(String type, String field) {
    return Optional.ofNullable(fields.get(type + "::" + field));
  }

  /** Offset of an instance field; IOException naming it when this JVM does not publish it. */
  public long offsetOf(String type, String field) throws IOException {
    Field f = field(type, field).filter(x -> !x.isStatic())
        .orElseThrow(() -> new IOException("this JVM's VMStructs has no instance field " + type + "::" + field));
    return f.offset();
  }

  public int size() {
    return fields.size();
  }
}
