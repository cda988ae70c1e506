package dev.jvmebpf.bpf.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jvmebpf.bpf.elf.ElfFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Load addresses from /proc/pid/maps, with the file also mapped for reading. */
class ProcessMapsTest {

  @Test
  void loadAddressIgnoresSharedMappingsOfTheSameFile() {
    String lib = "/usr/lib/jvm/x/lib/server/libjvm.so";
    ProcessMaps maps = ProcessMaps.parse(List.of(
        "7f0000000000-7f0001000000 r--s 00000000 fe:01 123 " + lib, // FileChannel.map, lower
        "7f1000000000-7f1000200000 r--p 00000000 fe:01 123 " + lib,
        "7f1000200000-7f1000e00000 r-xp 00200000 fe:01 123 " + lib,
        "7f1000e00000-7f1001000000 rw-p 00e00000 fe:01 123 " + lib,
        "7f2000000000-7f2001000000 r--s 00000000 fe:01 123 " + lib)); // and higher
    assertEquals(Optional.of(0x7f1000000000L), maps.baseOf(Path.of(lib)));
  }

  /** The hand-written field split agrees with the regular expression it replaced, on real lines. */
  @Test
  void fieldsAsSplitOnWhitespaceHasThem() throws Exception {
    List<String> lines = new java.util.ArrayList<>(java.nio.file.Files.readAllLines(Path.of("/proc/self/maps")));
    lines.add("7f1000000000-7f1000200000 r--p 00000000 fe:01 123          /tmp/a dir/with  spaces.so");
    lines.add("7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]");
    lines.add("7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0");
    lines.add("  ");
    for (String line : lines) {
      String trimmed = line.trim();
      assertEquals(List.of(trimmed.isEmpty() ? new String[0] : trimmed.split("\\s+", 6)),
          List.of(ProcessMaps.fields(trimmed, 6)), line);
    }
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
