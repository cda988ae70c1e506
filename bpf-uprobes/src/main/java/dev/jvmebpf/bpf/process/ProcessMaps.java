package dev.jvmebpf.bpf.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The memory mappings of a process, from /proc/&lt;pid&gt;/maps. */
public final class ProcessMaps {

  /** One line of the maps file. {@code path} is empty for anonymous mappings. */
  public record Mapping(long start, long end, String permissions, long offset, String path) {}

  private final List<Mapping> mappings;

  private ProcessMaps(List<Mapping> mappings) {
    this.mappings = mappings;
  }

  public static ProcessMaps of(long pid) throws IOException {
    return parse(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "maps")));
  }

  public static ProcessMaps self() throws IOException {
    return parse(Files.readAllBytes(Path.of("/proc/self/maps")));
  }

  /**
   * The maps file's lines ("start-end perms offset dev inode [path]", the path possibly with
   * spaces), parsed from its bytes in one pass: a JVM's maps have hundreds of lines, read at every
   * start, and splitting each line into Strings, then parsing those, made the JIT compile a dozen
   * String methods for it. Strings are made for the permissions and the path only, and shared
   * with the line before when their bytes are the same (a file's mappings are consecutive). The
   * path is UTF-8, malformed bytes replaced. Lines that do not parse are skipped.
   */
  static ProcessMaps parse(byte[] text) {
    List<Mapping> out = new ArrayList<>(text.length / 64 + 1);
    int[] field = new int[10]; // begin and end of the first five fields
    String permissions = "";
    int permissionsFrom = 0;
    int permissionsTo = 0;
    String path = "";
    int pathFrom = 0;
    int pathTo = 0;
    int at = 0;
    while (at < text.length) {
      int eol = at;
      while (eol < text.length && text[eol] != '\n') {
        eol++;
      }
      int p = at;
      int found = 0;
      for (; found < 5; found++) {
        p = skipBlanks(text, p, eol);
        int begin = p;
        while (p < eol && !blank(text[p])) {
          p++;
        }
        if (p == begin) {
          break;
        }
        field[2 * found] = begin;
        field[2 * found + 1] = p;
      }
      int dash = found < 5 ? -1 : indexOf(text, field[0], field[1], '-');
      if (dash > field[0] && hex(text, field[0], dash) && hex(text, dash + 1, field[1])
          && hex(text, field[4], field[5])) {
        int begin = skipBlanks(text, p, eol);
        int end = eol;
        while (end > begin && blank(text[end - 1])) {
          end--;
        }
        if (!Arrays.equals(text, permissionsFrom, permissionsTo, text, field[2], field[3])) {
          permissions = new String(text, field[2], field[3] - field[2], StandardCharsets.ISO_8859_1);
          permissionsFrom = field[2];
          permissionsTo = field[3];
        }
        if (!Arrays.equals(text, pathFrom, pathTo, text, begin, end)) {
          path = new String(text, begin, end - begin, StandardCharsets.UTF_8);
          pathFrom = begin;
          pathTo = end;
        }
        out.add(new Mapping(parseHex(text, field[0], dash), parseHex(text, dash + 1, field[1]), permissions,
            parseHex(text, field[4], field[5]), path));
      }
      at = eol + 1;
    }
    return new ProcessMaps(List.copyOf(out));
  }

  private static boolean blank(byte b) {
    return b == ' ' || b == '\t' || b == '\r';
  }

  private static int skipBlanks(byte[] text, int from, int to) {
    while (from < to && blank(text[from])) {
      from++;
    }
    return from;
  }

  private static int indexOf(byte[] text, int from, int to, char c) {
    for (int i = from; i < to; i++) {
      if (text[i] == c) {
        return i;
      }
    }
    return -1;
  }

  /** Whether [from, to) is 1 to 16 hexadecimal digits: an unsigned 64-bit number. */
  private static boolean hex(byte[] text, int from, int to) {
    if (to <= from || to - from > 16) {
      return false;
    }
    for (int i = from; i < to; i++) {
      if (Character.digit(text[i], 16) < 0) {
        return false;
      }
    }
    return true;
  }

  private static long parseHex(byte[] text, int from, int to) {
    long value = 0;
    for (int i = from; i < to; i++) {
      value = value << 4 | Character.digit(text[i], 16);
    }
    return value;
  }

  public List<Mapping> mappings() {
    return mappings;
  }

  /**
   * The file of the first mapping whose file name is {@code fileName} or starts with
   * {@code fileName + "."} (so "libc.so" finds "libc.so.6" and "libc-2.31.so" does not matter).
   */
  public Optional<Path> library(String fileName) {
    for (Mapping m : mappings) {
      String path = m.path();
      int name = path.lastIndexOf('/') + 1;
      if (name > 0 && path.charAt(0) == '/' && path.startsWith(fileName, name)
          && (path.length() == name + fileName.length() || path.charAt(name + fileName.length()) == '.')) {
        return Optional.of(Path.of(path));
      }
    }
    return Optional.empty();
  }

  /**
   * Load address of the shared object {@code file}: the start of the dynamic loader's mapping of
   * it at file offset 0. Only private mappings count (the loader maps with MAP_PRIVATE): the same
   * file mapped for reading, e.g. by {@code FileChannel.map} to parse its ELF, is shared and may
   * even lie lower. With several private candidates, the one right below its executable segment.
   */
  public Optional<Long> baseOf(Path file) {
    String wanted = file.toString();
    long text = -1;
    boolean hasText = false;
    for (Mapping m : mappings) {
      if (loadedFrom(m, wanted) && m.permissions().charAt(2) == 'x') {
        text = m.start();
        hasText = true;
        break;
      }
    }
    Long base = null;
    for (Mapping m : mappings) {
      if (loadedFrom(m, wanted) && m.offset() == 0 && (!hasText || Long.compareUnsigned(m.start(), text) <= 0)) {
        if (base == null) {
          base = m.start();
        } else if (hasText) {
          base = Long.compareUnsigned(m.start(), base) > 0 ? m.start() : base;
        }
      }
    }
    return Optional.ofNullable(base);
  }

  /** A private mapping of the file. */
  private static boolean loadedFrom(Mapping m, String path) {
    return m.path().equals(path) && m.permissions().length() >= 4 && m.permissions().charAt(3) == 'p';
  }
}
