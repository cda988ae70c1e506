package dev.jvmebpf.bpf.elf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Our ELF reader against binutils' readelf, on the libjvm.so this test runs on. */
class ElfFileTest {

  @Test
  void usdtNotesMatchReadelf() throws Exception {
    Path libjvm = JvmProcess.current().libjvm();
    String readelf = BpfTestSupport.toolOutput("readelf", "-n", "--wide", libjvm.toString());
    List<String> expected = new ArrayList<>();
    Matcher m = Pattern.compile("Provider: (\\S+)\\s+Name: (\\S+)\\s+Location: (0x[0-9a-f]+), Base: (0x[0-9a-f]+)")
        .matcher(readelf);
    while (m.find()) {
      expected.add(m.group(1) + ":" + m.group(2) + "@" + Long.parseUnsignedLong(m.group(3).substring(2), 16)
          + "/" + Long.parseUnsignedLong(m.group(4).substring(2), 16));
    }
    List<String> ours = new ArrayList<>();
    for (ElfFile.UsdtProbe p : ElfFile.read(libjvm).usdtProbes()) {
      ours.add(p.id() + "@" + p.location() + "/" + p.base());
    }
    assertFalse(expected.isEmpty(), "readelf found USDT notes");
    assertEquals(expected, ours);
    assertTrue(ours.stream().anyMatch(s -> s.startsWith("hotspot:mem__pool__gc__begin@")));
  }

  @Test
  void localSymbolsMatchReadelf() throws Exception {
    Path libjvm = JvmProcess.current().libjvm();
    ElfFile elf = ElfFile.read(libjvm);
    String readelf = BpfTestSupport.toolOutput("readelf", "-Ws", libjvm.toString());
    for (String name : List.of("_ZN16SafepointTracing13_current_typeE", "_ZN12VM_Operation6_namesE",
        "_ZN11AllocTracer28send_allocation_outside_tlabEP5KlassPP12HeapWordImplmP10JavaThread")) {
      Matcher m = Pattern.compile("\\d+: ([0-9a-f]+)\\s+(\\d+)\\s+\\w+\\s+\\w+\\s+\\w+\\s+\\w+ " + Pattern.quote(name) + "$",
          Pattern.MULTILINE).matcher(readelf);
      assertTrue(m.find(), "readelf lists " + name);
      ElfFile.Symbol symbol = elf.symbol(name).orElseThrow(() -> new AssertionError("we find " + name));
      assertEquals(Long.parseUnsignedLong(m.group(1), 16), symbol.value(), name + " value");
      assertEquals(Long.parseLong(m.group(2)), symbol.size(), name + " size");
    }
    assertEquals(Optional.empty(), elf.symbol("no_such_symbol_in_libjvm"));
    assertEquals(Optional.empty(), elf.symbol("_ZN11AllocTracer28send_allocation_outside_tla"),
        "a name's prefix is not the name");
  }

  /**
   * Every 97th symbol of .symtab as readelf lists it (names short and long, many sharing a
   * prefix): found, with readelf's value, unless an earlier symbol has the same name.
   */
  @Test
  void sampledSymbolsMatchReadelf() throws Exception {
    Path libjvm = JvmProcess.current().libjvm();
    ElfFile elf = ElfFile.read(libjvm);
    String readelf = BpfTestSupport.toolOutput("readelf", "-Ws", libjvm.toString());
    Matcher m = Pattern.compile("^\\s*\\d+: ([0-9a-f]+)\\s+\\d+\\s+\\w+\\s+\\w+\\s+\\w+\\s+\\w+ (\\S+)$",
        Pattern.MULTILINE).matcher(readelf.substring(readelf.indexOf("'.symtab'")));
    java.util.Map<String, Long> firstValue = new java.util.HashMap<>();
    List<String> sample = new ArrayList<>();
    for (int line = 0; m.find(); line++) {
      String name = m.group(2);
      if (name.contains("@")) {
        continue; // readelf adds versions to some names
      }
      firstValue.putIfAbsent(name, Long.parseUnsignedLong(m.group(1), 16));
      if (line % 97 == 0) {
        sample.add(name);
      }
    }
    assertTrue(sample.size() > 100, "readelf listed .symtab: " + sample.size() + " sampled");
    for (String name : sample) {
      ElfFile.Symbol symbol = elf.symbol(name).orElseThrow(() -> new AssertionError("we find " + name));
      assertEquals(firstValue.get(name), symbol.value(), name + " value");
    }
    // All of them in one read of the tables, as the families ask for theirs.
    java.util.Map<String, ElfFile.Symbol> all = elf.symbols(sample);
    assertEquals(new java.util.HashSet<>(sample), all.keySet());
    for (String name : sample) {
      assertEquals(firstValue.get(name), all.get(name).value(), name + " value, looked up with the others");
    }
  }

  /**
   * The file is read, not mapped: sections, segments and a function's bytes must be what readelf
   * and the file's own bytes (read whole, independently) say, and the same from memory.
   */
  @Test
  void sectionsSegmentsAndRangesMatchTheFileRead() throws Exception {
    Path libjvm = JvmProcess.current().libjvm();
    byte[] whole = java.nio.file.Files.readAllBytes(libjvm);
    ElfFile fromFile = ElfFile.read(libjvm);
    ElfFile fromMemory = ElfFile.of(libjvm.toString(), whole);
    assertEquals(fromMemory.sections(), fromFile.sections());
    assertEquals(fromMemory.loadSegments(), fromFile.loadSegments());
    String readelf = BpfTestSupport.toolOutput("readelf", "-lW", libjvm.toString());
    long loads = readelf.lines().filter(l -> l.trim().startsWith("LOAD ")).count();
    assertTrue(loads > 0, "readelf lists LOAD segments");
    assertEquals(loads, fromFile.loadSegments().size());
    ElfFile.Section text = fromFile.section(".text").orElseThrow();
    ElfFile.Symbol function = fromFile.symbol("JNI_CreateJavaVM").orElseThrow();
    long at = function.value() - text.address();
    byte[] expected = java.util.Arrays.copyOfRange(whole, (int) (text.offset() + at), (int) (text.offset() + at + 64));
    assertTrue(java.util.Arrays.equals(expected, fromFile.contents(text, at, 64)), "a function's bytes, read from the file");
    assertTrue(java.util.Arrays.equals(expected, fromMemory.contents(text, at, 64)), "the same from memory");
    java.nio.ByteBuffer dynsym = fromFile.contents(fromFile.section(".dynsym").orElseThrow());
    ElfFile.Section dynsymSection = fromFile.section(".dynsym").orElseThrow();
    assertEquals(java.nio.ByteBuffer.wrap(whole, (int) dynsymSection.offset(), (int) dynsymSection.size()), dynsym);
  }

  /** Lookups remember what they found and what is absent; later ones answer as a fresh file would. */
  @Test
  void laterLookupsAnswerAsAFreshFileWould() throws Exception {
    Path libjvm = JvmProcess.current().libjvm();
    ElfFile elf = ElfFile.read(libjvm);
    String local = "_ZN11AllocTracer27send_allocation_in_new_tlabEP5KlassPP12HeapWordImplmmP10JavaThread";
    String exported = "JNI_CreateJavaVM";
    String absent = "no_such_symbol_in_libjvm";
    assertEquals(java.util.Set.of(local), elf.symbols(List.of(local, absent)).keySet());
    java.util.Map<String, ElfFile.Symbol> again = elf.symbols(List.of(exported, local, absent));
    java.util.Map<String, ElfFile.Symbol> fresh = ElfFile.read(libjvm).symbols(List.of(exported, local, absent));
    assertEquals(fresh, again);
    assertEquals(java.util.Set.of(exported, local), again.keySet());
    assertTrue(elf.symbol(absent).isEmpty());
  }

  /** A scan done elsewhere that fails leaves the lookup to this class: the same answer, not none. */
  @Test
  void aFailingTableScanFallsBackToTheJavaScan() throws Exception {
    Path libjvm = JvmProcess.current().libjvm();
    List<String> names = List.of("JNI_CreateJavaVM", "_ZN20SafepointSynchronize5beginEv", "pthread_create", "absent_x");
    int[] calls = {0};
    java.util.Map<String, ElfFile.Symbol> viaFailure = ElfFile.read(libjvm).symbols(names,
        (file, type, definedOnly, wanted, found, out) -> {
          calls[0]++;
          throw new java.io.IOException("scan failed");
        });
    assertEquals(1, calls[0]);
    assertEquals(ElfFile.read(libjvm).symbols(names), viaFailure);
    assertEquals(3, viaFailure.size(), viaFailure.toString());
  }

  /** A file replaced after its headers were read is refused, not read as if it were the same. */
  @Test
  void aFileChangedSinceItWasReadIsRefused(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    Path copy = tmp.resolve("libjvm-copy.so");
    java.nio.file.Files.copy(JvmProcess.current().libjvm(), copy);
    ElfFile elf = ElfFile.read(copy);
    ElfFile.Section dynsym = elf.section(".dynsym").orElseThrow();
    assertTrue(elf.contents(dynsym).remaining() > 0, "read while unchanged");
    java.nio.file.Files.write(copy, new byte[] {0}, java.nio.file.StandardOpenOption.APPEND);
    java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
        () -> elf.contents(dynsym));
    assertTrue(e.getMessage().contains("changed on disk"), e.getMessage());
  }
}
