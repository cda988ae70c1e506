package dev.jvmebpf.bpf.elf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A read-only view of a 64-bit little-endian ELF file (x86-64 shared objects and BPF
 * objects): sections, symbols, load segments and SystemTap (USDT) notes. No privileges needed.
 */
public final class ElfFile {

  private static final int SHT_SYMTAB = 2;
  private static final int SHT_NOTE = 7;
  private static final int SHT_DYNSYM = 11;
  private static final int PT_LOAD = 1;
  private static final int NT_STAPSDT = 3;

  /** A section header. */
  public record Section(String name, int type, long address, long offset, long size, int link) {}

  /** A PT_LOAD program header. */
  public record Segment(long offset, long virtualAddress, long fileSize, long memorySize, int flags) {}

  /** A symbol of .symtab or .dynsym. */
  public record Symbol(String name, long value, long size, int type, int binding, int section) {
    public static final int STT_OBJECT = 1;
    public static final int STT_FUNC = 2;
    public static final int STT_TLS = 6;
  }

  /** A SystemTap SDT note: one USDT probe site. */
  public record UsdtProbe(String provider, String name, long location, long base, long semaphore,
      String arguments) {
    /** provider:name, as bpftrace and perf write it. */
    public String id() {
      return provider + ":" + name;
    }
  }

  private final String origin;
  /** The file, read section by section on demand; null for an ELF held in memory. */
  private final Path path;
  /** The whole ELF when held in memory; null for a file. */
  private final ByteBuffer data;
  private final long size;
  /** The file's modification time when read (ms); contents refuses a file changed since. */
  private final long modified;
  private final List<Segment> segments;
  private final List<Section> sections;
  /**
   * What {@link #symbols} found so far, by name (empty: absent). A lookup scans the tables only
   * for names not in here, so callers that ask for all their names first (the agent asks for
   * every family's before the families attach) read libjvm's 5 MB of symbols once.
   */
  private final Map<String, Optional<Symbol>> looked = new HashMap<>();

  private ElfFile(String origin, Path path, ByteBuffer data, long size, long modified, Source source)
      throws IOException {
    this.origin = origin;
    this.path = path;
    this.data = data == null ? null : data.order(ByteOrder.LITTLE_ENDIAN);
    this.size = size;
    this.modified = modified;
    ByteBuffer header = source.read(0, Math.min(64, size));
    if (header.limit() < 64 || header.getInt(0) != 0x464c457f) {
      throw new IOException(origin + ": not an ELF file");
    }
    if (header.get(4) != 2 || header.get(5) != 1) {
      throw new IOException(origin + ": only 64-bit little-endian ELF is supported");
    }
    this.segments = readSegments(header, source);
    this.sections = readSections(header, source);
  }

  /** Reads {@code length} bytes at {@code offset}: a little-endian buffer positioned at 0. */
  private interface Source {
    ByteBuffer read(long offset, long length) throws IOException;
  }

  /**
   * Reads the file's headers now, and a section's bytes each time {@link #contents} asks, into
   * memory: no file descriptor is kept open and no mapping made. (A read-only mapping costs the
   * JDK a reflective constructor call, whose method handles it generates on first use: about 25
   * ms of the agent's start. The sections read are those whose symbols or notes are looked up.)
   */
  public static ElfFile read(Path path) throws IOException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = channel.size();
      long modified = Files.getLastModifiedTime(path).toMillis();
      return new ElfFile(path.toString(), path, null, size, modified,
          (offset, length) -> read(channel, path, offset, length));
    }
  }

  private static ByteBuffer read(FileChannel channel, Path path, long offset, long length) throws IOException {
    if (length > Integer.MAX_VALUE - 8) {
      throw new IOException(path + ": " + length + " bytes at " + offset + " are too many to read at once");
    }
    ByteBuffer out = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
    while (out.hasRemaining()) {
      if (channel.read(out, offset + out.position()) < 0) {
        throw new IOException(path + ": ends before byte " + (offset + length));
      }
    }
    return out.flip();
  }

  public static ElfFile of(String origin, byte[] bytes) throws IOException {
    ByteBuffer data = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    return new ElfFile(origin, null, data, bytes.length, 0, (offset, length) -> slice(data, offset, length));
  }

  private static ByteBuffer slice(ByteBuffer data, long offset, long length) {
    return data.duplicate().position((int) offset).limit((int) (offset + length)).slice()
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  public String origin() {
    return origin;
  }

  public List<Section> sections() {
    return sections;
  }

  public Optional<Section> section(String name) {
    for (Section section : sections) {
      if (section.name().equals(name)) {
        return Optional.of(section);
      }
    }
    return Optional.empty();
  }

  /** The bytes of a section, positioned at 0, little-endian (read from the file for a file). */
  public ByteBuffer contents(Section section) throws IOException {
    return bytes(section, 0, section.size());
  }

  /** {@code length} bytes of a section from {@code offset} within it (only those read from a file). */
  public byte[] contents(Section section, long offset, int length) throws IOException {
    byte[] out = new byte[length];
    bytes(section, offset, length).get(out);
    return out;
  }

  /** {@code length} bytes of a section from {@code offset}: a slice in memory, or read from the file. */
  private ByteBuffer bytes(Section section, long offset, long length) throws IOException {
    if (section.offset() < 0 || section.size() < 0 || section.offset() + section.size() > size) {
      throw new IOException(origin + ": section " + section.name() + " lies outside the file");
    }
    if (offset < 0 || length < 0 || offset + length > section.size()) {
      throw new IOException(origin + ": bytes " + offset + "+" + length + " lie outside section " + section.name());
    }
    if (data != null) {
      return slice(data, section.offset() + offset, length);
    }
    try (FileChannel channel = reopen()) {
      return read(channel, path, section.offset() + offset, length);
    }
  }

  /** The file again, refused when it is no longer the one read (replaced or rewritten since). */
  private FileChannel reopen() throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    try {
      if (channel.size() != size || Files.getLastModifiedTime(path).toMillis() != modified) {
        throw new IOException(path + " changed on disk since it was read");
      }
      return channel;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  public List<Segment> loadSegments() {
    return segments;
  }

  private List<Segment> readSegments(ByteBuffer header, Source source) throws IOException {
    long phoff = header.getLong(32);
    int phentsize = Short.toUnsignedInt(header.getShort(54));
    int phnum = Short.toUnsignedInt(header.getShort(56));
    if (phnum == 0) {
      return List.of();
    }
    if (phoff <= 0 || phentsize < 56 || phoff + (long) phnum * phentsize > size) {
      throw new IOException(origin + ": malformed program header table");
    }
    ByteBuffer table = source.read(phoff, (long) phnum * phentsize);
    List<Segment> out = new ArrayList<>();
    for (int i = 0; i < phnum; i++) {
      int at = i * phentsize;
      if (table.getInt(at) == PT_LOAD) {
        out.add(new Segment(table.getLong(at + 8), table.getLong(at + 16), table.getLong(at + 32),
            table.getLong(at + 40), table.getInt(at + 4)));
      }
    }
    return List.copyOf(out);
  }

  /** Where in the file the byte at {@code virtualAddress} is (from the PT_LOAD segments). */
  public java.util.OptionalLong fileOffsetOf(long virtualAddress) {
    for (Segment s : loadSegments()) {
      if (virtualAddress >= s.virtualAddress() && virtualAddress < s.virtualAddress() + s.fileSize()) {
        return java.util.OptionalLong.of(s.offset() + virtualAddress - s.virtualAddress());
      }
    }
    return java.util.OptionalLong.empty();
  }

  /**
   * The symbol named exactly {@code name}: a definition that .dynsym exports, else the entry of
   * .symtab, else an entry of .dynsym (an import).
   */
  public Optional<Symbol> symbol(String name) throws IOException {
    return Optional.ofNullable(symbols(List.of(name)).get(name));
  }

  /**
   * {@link #symbol} of each of {@code names} (those found), reading each table once however many
   * names are asked for, and not at all for names asked before. A large .symtab (libjvm's has about 70,000 entries) is what start-up pays
   * for: exports are looked up first in the much smaller .dynsym, and the names left are found in
   * one pass over .symtab.
   */
  public Map<String, Symbol> symbols(Collection<String> names) throws IOException {
    return symbols(names, null);
  }

  /**
   * A scan of one type of symbol table done outside Java, for a file: for each of {@code names}
   * not found yet ({@code found[i]} false), the first entry named exactly so in the file's
   * tables of {@code type}, in section then entry order, undefined entries skipped when
   * {@code definedOnly}; it sets {@code found[i]} and writes value, size, info and section index
   * to {@code out[4 * i]} to {@code out[4 * i + 3]}. The agent's native library does this without
   * reading libjvm's 5 MB of tables into the Java heap.
   */
  @FunctionalInterface
  public interface TableScan {
    void scan(Path file, int type, boolean definedOnly, String[] names, boolean[] found, long[] out)
        throws IOException;
  }

  /**
   * {@link #symbols(Collection)}, the tables scanned by {@code scan} when this ELF is a file and
   * {@code scan} is not null; should it fail, by this class itself.
   */
  public synchronized Map<String, Symbol> symbols(Collection<String> names, TableScan scan) throws IOException {
    List<String> asked = new ArrayList<>();
    for (String name : names) {
      if (!looked.containsKey(name) && !asked.contains(name)) {
        asked.add(name);
      }
    }
    if (!asked.isEmpty()) {
      Map<String, Symbol> found = new HashMap<>();
      if (scan == null || path == null || !scanElsewhere(scan, asked, found)) {
        found.clear();
        List<byte[]> left = new ArrayList<>();
        for (String name : asked) {
          left.add(name.getBytes(StandardCharsets.UTF_8));
        }
        // Definitions in .dynsym, then .symtab, then whatever .dynsym has (undefined: imports).
        findSymbols(SHT_DYNSYM, true, left, found);
        findSymbols(SHT_SYMTAB, false, left, found);
        findSymbols(SHT_DYNSYM, false, left, found);
      }
      for (String name : asked) {
        looked.put(name, Optional.ofNullable(found.get(name)));
      }
    }
    Map<String, Symbol> out = new HashMap<>();
    for (String name : names) {
      Optional<Symbol> symbol = looked.get(name);
      if (symbol.isPresent()) {
        out.put(name, symbol.get());
      }
    }
    return out;
  }

  /**
   * The three passes of {@link #symbols} through {@code scan}, on this very file (refused when it
   * changed since its headers were read); false when {@code scan} fails.
   */
  private boolean scanElsewhere(TableScan scan, List<String> asked, Map<String, Symbol> out) {
    String[] names = asked.toArray(new String[0]);
    boolean[] found = new boolean[names.length];
    long[] values = new long[4 * names.length];
    try {
      reopen().close();
      scan.scan(path, SHT_DYNSYM, true, names, found, values);
      scan.scan(path, SHT_SYMTAB, false, names, found, values);
      scan.scan(path, SHT_DYNSYM, false, names, found, values);
      reopen().close();
    } catch (IOException | RuntimeException e) {
      return false;
    }
    for (int i = 0; i < names.length; i++) {
      if (found[i]) {
        int info = (int) values[4 * i + 2];
        out.put(names[i], new Symbol(names[i], values[4 * i], values[4 * i + 1], info & 0xf, info >> 4,
            (int) values[4 * i + 3]));
      }
    }
    return true;
  }

  /** The symbol named exactly {@code name} in .dynsym only: what the file exports or imports. */
  public Optional<Symbol> dynamicSymbol(String name) throws IOException {
    Map<String, Symbol> found = new HashMap<>();
    findSymbols(SHT_DYNSYM, false, new ArrayList<>(List.of(name.getBytes(StandardCharsets.UTF_8))), found);
    return Optional.ofNullable(found.get(name));
  }

  /**
   * Moves each name of {@code left} found in the tables of {@code type} to {@code found}.
   *
   * <p>The scan runs once per start over libjvm's roughly 70,000 entries, before the JIT has
   * compiled anything of ours, so its loop ({@link #nextCandidate}) is kept to two reads per entry:
   * the name's first eight bytes against each wanted name's. C++ names all begin with "_Z", so a
   * first byte alone ruled out nothing; eight bytes ("_ZN19Saf") leave a handful of entries for the
   * full comparison. Measured on Temurin 25 (7 starts each, alternating): the agent's start took
   * 0.19 s less process CPU, most of it C2 compiling the old loop (110-160 ms).
   */
  private void findSymbols(int type, boolean definedOnly, List<byte[]> left, Map<String, Symbol> found)
      throws IOException {
    for (Section table : sections) {
      if (left.isEmpty()) {
        return;
      }
      if (table.type() != type) {
        continue;
      }
      ByteBuffer symbolBuffer = contents(table);
      ByteBuffer stringBuffer = contents(sections.get(table.link()));
      // Plain arrays (both buffers are heap buffers): the scan runs mostly interpreted, where
      // each ByteBuffer read is several calls.
      byte[] symbols = array(symbolBuffer);
      byte[] strings = array(stringBuffer);
      long[] heads = new long[left.size()];
      long[] masks = new long[left.size()];
      heads(left, heads, masks);
      for (int at = 0; !left.isEmpty() && (at = nextCandidate(symbols, strings, at, heads, masks)) >= 0; at += 24) {
        int nameOffset = int32(symbols, at);
        int section = (symbols[at + 6] & 0xff) | (symbols[at + 7] & 0xff) << 8;
        if (definedOnly && section == 0) {
          continue;
        }
        for (int i = 0; i < left.size(); i++) {
          byte[] wanted = left.get(i);
          if (matches(strings, nameOffset, wanted)) {
            int info = symbols[at + 4] & 0xff;
            String name = new String(wanted, StandardCharsets.UTF_8);
            found.put(name, new Symbol(name, int64(symbols, at + 8), int64(symbols, at + 16), info & 0xf,
                info >> 4, section));
            left.remove(i);
            heads = new long[left.size()];
            masks = new long[left.size()];
            heads(left, heads, masks);
            break;
          }
        }
      }
    }
  }

  /** A buffer's remaining bytes as an array of exactly that length (the backing array when it is one). */
  private static byte[] array(ByteBuffer buffer) {
    if (buffer.hasArray() && buffer.arrayOffset() == 0 && buffer.position() == 0
        && buffer.limit() == buffer.array().length) {
      return buffer.array();
    }
    byte[] out = new byte[buffer.remaining()];
    buffer.duplicate().get(out);
    return out;
  }

  private static int int32(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
  }

  private static long int64(byte[] b, int at) {
    return (int32(b, at) & 0xffffffffL) | (long) int32(b, at + 4) << 32;
  }

  /**
   * Each name's first eight bytes as a little-endian long, and which of them count: a shorter name
   * counts its bytes and its terminating NUL, so "abc" does not match "abcd".
   */
  private static void heads(List<byte[]> names, long[] heads, long[] masks) {
    for (int i = 0; i < names.size(); i++) {
      byte[] name = names.get(i);
      int counted = Math.min(8, name.length + 1);
      for (int b = 0; b < counted; b++) {
        long value = b < name.length ? name[b] & 0xffL : 0;
        heads[i] |= value << (8 * b);
        masks[i] |= 0xffL << (8 * b);
      }
    }
  }

  /**
   * Offset of the first entry at or after {@code from} whose name begins as one of {@code heads}
   * does, or -1. A name within eight bytes of the table's end is always a candidate: the full
   * comparison decides it.
   */
  private static int nextCandidate(byte[] symbols, byte[] strings, int from, long[] heads, long[] masks) {
    int last = symbols.length - 24;
    int stringsEnd = strings.length;
    for (int at = from; at <= last; at += 24) {
      int name = int32(symbols, at);
      if (name <= 0 || name >= stringsEnd) {
        continue;
      }
      if (name > stringsEnd - 8) {
        return at;
      }
      long head = int64(strings, name);
      for (int i = 0; i < heads.length; i++) {
        if ((head & masks[i]) == heads[i]) {
          return at;
        }
      }
    }
    return -1;
  }

  private static boolean matches(byte[] strings, int offset, byte[] wanted) {
    if (offset < 0 || offset + wanted.length >= strings.length) {
      return false;
    }
    for (int i = 0; i < wanted.length; i++) {
      if (strings[offset + i] != wanted[i]) {
        return false;
      }
    }
    return strings[offset + wanted.length] == 0;
  }

  /** Every USDT probe site of the .note.stapsdt section (several sites may share a name). */
  public List<UsdtProbe> usdtProbes() throws IOException {
    List<UsdtProbe> probes = new ArrayList<>();
    for (Section section : sections) {
      if (section.type() != SHT_NOTE || !section.name().equals(".note.stapsdt")) {
        continue;
      }
      ByteBuffer notes = contents(section);
      int at = 0;
      while (at + 12 <= notes.limit()) {
        int nameSize = notes.getInt(at);
        int descSize = notes.getInt(at + 4);
        int type = notes.getInt(at + 8);
        int desc = at + 12 + align4(nameSize);
        if (desc + descSize > notes.limit()) {
          break;
        }
        if (type == NT_STAPSDT && descSize >= 24) {
          long location = notes.getLong(desc);
          long base = notes.getLong(desc + 8);
          long semaphore = notes.getLong(desc + 16);
          int end = desc + descSize;
          int p = desc + 24;
          String provider = cString(notes, p, end);
          p += provider.length() + 1;
          String name = cString(notes, p, end);
          p += name.length() + 1;
          String args = p < end ? cString(notes, p, end) : "";
          probes.add(new UsdtProbe(provider, name, location, base, semaphore, args));
        }
        at = desc + align4(descSize);
      }
    }
    return probes;
  }

  private List<Section> readSections(ByteBuffer header, Source source) throws IOException {
    long shoff = header.getLong(40);
    int shentsize = Short.toUnsignedInt(header.getShort(58));
    int shnum = Short.toUnsignedInt(header.getShort(60));
    int shstrndx = Short.toUnsignedInt(header.getShort(62));
    if (shoff <= 0 || shentsize < 64 || shoff + (long) shnum * shentsize > size || shstrndx >= shnum) {
      throw new IOException(origin + ": malformed section header table");
    }
    ByteBuffer table = source.read(shoff, (long) shnum * shentsize);
    int namesAt = shstrndx * shentsize;
    long namesOffset = table.getLong(namesAt + 24);
    long namesSize = table.getLong(namesAt + 32);
    if (namesOffset < 0 || namesSize < 0 || namesOffset + namesSize > size) {
      throw new IOException(origin + ": malformed section name table");
    }
    ByteBuffer names = source.read(namesOffset, namesSize);
    List<Section> out = new ArrayList<>(shnum);
    for (int i = 0; i < shnum; i++) {
      int at = i * shentsize;
      int nameOffset = table.getInt(at);
      String name = nameOffset >= 0 && nameOffset < namesSize ? cString(names, nameOffset, (int) namesSize) : "";
      out.add(new Section(name, table.getInt(at + 4), table.getLong(at + 16), table.getLong(at + 24),
          table.getLong(at + 32), table.getInt(at + 40)));
    }
    return List.copyOf(out);
  }

  static String cString(ByteBuffer buffer, int from, int limit) {
    int end = from;
    while (end < limit && buffer.get(end) != 0) {
      end++;
    }
    byte[] bytes = new byte[end - from];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = buffer.get(from + i);
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static int align4(int n) {
    return (n + 3) & ~3;
  }
}
