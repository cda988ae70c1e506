package dev.jvmebpf.bpf.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
    return parse(Files.readAllLines(Path.of("/proc", Long.toString(pid), "maps")));
  }

  public static ProcessMaps self() throws IOException {
    return parse(Files.readAllLines(Path.of("/proc/self/maps")));
  }

  static ProcessMaps parse(List<String> lines) {
    List<Mapping> out = new ArrayList<>(lines.size());
    for (String line : lines) {
      // start-end perms offset dev inode [path]; the path may contain spaces.
      String[] f = fields(line.trim(), 6);
      if (f.length < 5) {
        continue;
      }
      int dash = f[0].indexOf('-');
      if (dash < 0) {
        continue;
      }
      try {
        out.add(new Mapping(Long.parseUnsignedLong(f[0].substring(0, dash), 16),
            Long.parseUnsignedLong(f[0].substring(dash + 1), 16), f[1],
            Long.parseUnsignedLong(f[2], 16), f.length > 5 ? f[5] : ""));
      } catch (NumberFormatException ignored) {
        // Not a mapping line.
      }
    }
    return new ProcessMaps(List.copyOf(out));
  }

  /**
   * {@code line.split("\\s+", limit)} without a regular expression: a JVM's maps have hundreds of
   * lines, read at every start, and the pattern matcher was the hottest code of that read.
   */
  static String[] fields(String line, int limit) {
    List<String> out = new ArrayList<>(limit);
    int at = 0;
    int length = line.length();
    while (at < length) {
      if (out.size() == limit - 1) {
        out.add(line.substring(at));
        break;
      }
      int end = at;
      while (end < length && !Character.isWhitespace(line.charAt(end))) {
        end++;
      }
      out.add(line.substring(at, end));
      at = end;
      while (at < length && Character.isWhitespace(line.charAt(at))) {
        at++;
      }
    }
    return out.toArray(new String[0]);
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
      if (!m.path().startsWith("/")) {
        continue;
      }
      String name = Path.of(m.path()).getFileName().toString();
      if (name.equals(fileName) || name.startsWith(fileName + ".")) {
        return Optional.of(Path.of(m.path()));
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
    List<Mapping> loaded = mappings.stream()
        .filter(m -> m.path().equals(wanted) && m.permissions().length() >= 4 && m.permissions().charAt(3) == 'p')
        .toList();
    Optional<Long> text = loaded.stream().filter(m -> m.permissions().charAt(2) == 'x')
        .map(Mapping::start).findFirst();
    return loaded.stream()
        .filter(m -> m.offset() == 0 && (text.isEmpty() || m.start() <= text.get()))
        .map(Mapping::start)
        .reduce((a, b) -> text.isPresent() ? Math.max(a, b) : a);
  }
}
