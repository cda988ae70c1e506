package dev.jvmebpf.bpf.libbpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.elf.ElfFile;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native symbol scan (jeb_elf_symbols) against ElfFile's own Java scan of the same files:
 * this JVM's libjvm and libc, with exports, a .symtab-only C++ name, an import, a name's prefix and
 * a name that is nowhere. Needs the bundled library only, no privileges.
 */
class NativeSymbolScanTest {

  @TempDir
  Path tmp;

  private static Map<String, ElfFile.Symbol> both(Path file, List<String> names, Libbpf libbpf) throws IOException {
    Map<String, ElfFile.Symbol> java = ElfFile.read(file).symbols(names);
    Map<String, ElfFile.Symbol> scanned = ElfFile.read(file).symbols(names, libbpf::scanSymbols);
    assertEquals(java, scanned, file.toString());
    return java;
  }

  @Test
  void libjvmAndLibcScannedInCAsInJava() throws Exception {
    Libbpf libbpf = Libbpf.load(null);
    JvmProcess jvm = JvmProcess.current();

    Map<String, ElfFile.Symbol> libjvm = both(jvm.libjvm(), List.of("JNI_CreateJavaVM",
        "_ZN20SafepointSynchronize5beginEv", "_ZN11AllocTracer27send_allocation_in_new_tlabEP5KlassPP12HeapWordImplmmP10JavaThread",
        "pthread_create", "_ZN20SafepointSynchronize5begin",
        "jeb_no_such_symbol"), libbpf);
    assertTrue(libjvm.get("JNI_CreateJavaVM").section() != 0, "an export, defined: " + libjvm);
    assertEquals(ElfFile.Symbol.STT_FUNC, libjvm.get("_ZN20SafepointSynchronize5beginEv").type(), "in .symtab only");
    assertEquals(0, libjvm.get("pthread_create").section(), "an import: undefined in .dynsym");
    assertFalse(libjvm.containsKey("_ZN20SafepointSynchronize5begin"), "a prefix of a name is not that name");
    assertFalse(libjvm.containsKey("jeb_no_such_symbol"));

    Map<String, ElfFile.Symbol> libc = both(jvm.libc().orElseThrow(), List.of("read", "write", "getaddrinfo",
        "malloc", "rea", "jeb_no_such_symbol"), libbpf);
    assertEquals(4, libc.size(), libc.toString());
    assertTrue(libc.get("read").size() > 0 && libc.get("read").value() > 0, libc.toString());
  }

  @Test
  void aFileThatIsNoElfIsAnErrorNotAnEmptyResult() throws Exception {
    Libbpf libbpf = Libbpf.load(null);
    Path text = Files.writeString(tmp.resolve("not-elf"), "x".repeat(100));
    IOException e = assertThrows(IOException.class, () -> libbpf.scanSymbols(text, 2, false, new String[] {"x"},
        new boolean[1], new long[4]));
    assertTrue(e.getMessage().contains("ENOEXEC"), e.getMessage());
  }
}
