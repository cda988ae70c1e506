package dev.jvmebpf.bpf.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.elf.ElfFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Load addresses from /proc/pid/maps, with the file also mapped for reading. */
class ProcessMapsTest {

  @Test
  void loadAddressIgnoresSharedMappingsOfTheSameFile() {
    String lib = "/usr/lib/jvm/x/lib/server/libjvm.so";
    ProcessMaps maps = parse(
        "7f0000000000-7f0001000000 r--s 00000000 fe:01 123 " + lib, // FileChannel.map, lower
        "7f1000000000-7f1000200000 r--p 00000000 fe:01 123 " + lib,
        "7f1000200000-7f1000e00000 r-xp 00200000 fe:01 123 " + lib,
        "7f1000e00000-7f1001000000 rw-p 00e00000 fe:01 123 " + lib,
        "7f2000000000-7f2001000000 r--s 00000000 fe:01 123 " + lib); // and higher
    assertEquals(Optional.of(0x7f1000000000L), maps.baseOf(Path.of(lib)));
    assertEquals(Optional.of(Path.of(lib)), maps.library("libjvm.so"));
    assertEquals(Optional.empty(), maps.library("libjv"));
    assertEquals(Optional.empty(), maps.library("jvm.so"));
  }

  private static ProcessMaps parse(String... lines) {
    return ProcessMaps.parse((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The byte parser against the plain reading of the format (split on whitespace into at most six
   * fields, numbers in hexadecimal): this JVM's own maps, plus paths with spaces, a non-ASCII name,
   * a kernel address above 2^63, and lines that are no mappings.
   */
  @Test
  void parsesWhatSplittingOnWhitespaceReads() throws Exception {
    List<String> lines = new ArrayList<>(Files.readAllLines(Path.of("/proc/self/maps")));
    lines.add("7f1000000000-7f1000200000 r--p 00000000 fe:01 123          /tmp/a dir/with  spaces.so  ");
    lines.add("7f1000200000-7f1000400000 r-xp 00200000 fe:01 123          /tmp/a dir/with  spaces.so");
    lines.add("7f1000400000-7f1000600000 r-xp 00000000 fe:01 124 /tmp/caf\u00e9/lib.so");
    lines.add("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]");
    lines.add("7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0");
    lines.add("  ");
    lines.add("not a mapping");
    lines.add("7ffd00000000-7ffd0002100g rw-p 00000000 00:00 0");
    lines.add("7ffd00000000 rw-p 00000000 00:00 0 /no/dash");
    List<ProcessMaps.Mapping> expected = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.trim().split("\\s+", 6);
      int dash = f[0].indexOf('-');
      if (f.length < 5 || dash < 0) {
        continue;
      }
      try {
        expected.add(new ProcessMaps.Mapping(Long.parseUnsignedLong(f[0].substring(0, dash), 16),
            Long.parseUnsignedLong(f[0].substring(dash + 1), 16), f[1], Long.parseUnsignedLong(f[2], 16),
            f.length > 5 ? f[5] : ""));
      } catch (NumberFormatException e) {
        // not a mapping
      }
    }
    List<ProcessMaps.Mapping> parsed = parse(lines.toArray(new String[0])).mappings();
    assertEquals(expected, parsed);
    assertTrue(expected.size() > 50, expected.size() + " mappings");
    assertEquals("/tmp/caf\u00e9/lib.so", parsed.get(parsed.size() - 3).path());
    assertEquals(0xffffffffff600000L, parsed.get(parsed.size() - 2).start());
  }

  @Test
  void symbolAddressesStayRightAfterTheLibraryIsMappedForReading() throws Exception {
    JvmProcess before = JvmProcess.current();
    String symbol = "gHotSpotVMStructs";
    long expected = before.libjvmAddress(symbol).orElseThrow();
    // Keep a read-only mapping of libjvm.so alive, as the probes' ELF parsing does.
    ElfFile mapped = ElfFile.read(before.libjvm());
    assertEquals(expected, JvmProcess.current().libjvmAddress(symbol).orElseThrow(), "with " + mapped.origin());
  }
}
