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
