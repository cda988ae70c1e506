package dev.jvmebpf.bpf.libc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.elf.ElfFile;
import dev.jvmebpf.bpf.x86.Instruction;
import dev.jvmebpf.bpf.x86.InstructionDecoder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The decoder against objdump's disassembly of this machine's libc (an independent decoder), and
 * the placements it leads to.
 */
class ProbePlacementTest {

  static final Path LIBC = Path.of("/lib/x86_64-linux-gnu/libc.so.6");
  static final List<String> HOT = List.of("malloc", "calloc", "realloc", "posix_memalign", "free", "mmap", "munmap",
      "read", "write", "recv", "send", "connect", "accept4", "close", "getaddrinfo");

  /** objdump's instructions: address to (length, mnemonic). */
  static Map<Long, String[]> objdump = new HashMap<>();
  static Map<String, long[]> functions = new HashMap<>();
  static ElfFile libc;

  @BeforeAll
  static void disassemble() throws Exception {
    libc = ElfFile.read(LIBC);
    String text = BpfTestSupport.toolOutput("objdump", "-d", "--insn-width=16", LIBC.toString());
    Matcher m = Pattern.compile("^\\s*([0-9a-f]+):\\t((?:[0-9a-f]{2} )+)\\s*\\t?(\\S*)", Pattern.MULTILINE).matcher(text);
    while (m.find()) {
      int length = m.group(2).trim().split(" ").length;
      objdump.put(Long.parseLong(m.group(1), 16), new String[] {Integer.toString(length), m.group(3)});
    }
    String nm = BpfTestSupport.toolOutput("nm", "-D", "--defined-only", "-S", LIBC.toString());
    for (String line : nm.split("\n")) {
      String[] f = line.trim().split("\\s+");
      // name@@VERSION is the default version of name; name@VERSION an older one.
      boolean defaultVersion = !f[f.length - 1].contains("@") || f[f.length - 1].contains("@@");
      if (f.length == 4 && (f[2].equals("T") || f[2].equals("W")) && defaultVersion) {
        functions.put(f[3].replaceAll("@.*", ""), new long[] {Long.parseLong(f[0], 16), Long.parseLong(f[1], 16)});
      }
    }
    assertTrue(objdump.size() > 100_000 && functions.size() > 1000, objdump.size() + " instructions, "
        + functions.size() + " functions");
  }

  @Test
  void lengthsAgreeWithObjdumpOnEveryLibcFunction() throws Exception {
    int decodedFunctions = 0;
    long decoded = 0;
    int stoppedEarly = 0;
    StringBuilder mismatches = new StringBuilder();
    int mismatchCount = 0;
    for (Map.Entry<String, long[]> f : functions.entrySet()) {
      Optional<byte[]> code = ProbePlacement.code(libc, f.getKey());
      if (code.isEmpty()) {
        continue;
      }
      // The symbol the decoder was given (a name with several versions has several addresses).
      long base = libc.symbol(f.getKey()).orElseThrow().value();
      boolean whole = true;
      for (int at = 0; at < code.get().length; ) {
        Optional<Instruction> i = InstructionDecoder.decode(code.get(), at);
        if (i.isEmpty()) {
          whole = false;
          break;
        }
        String[] theirs = objdump.get(base + at);
        if (theirs == null || Integer.parseInt(theirs[0]) != i.get().length()) {
          if (mismatchCount++ < 10) {
            mismatches.append(f.getKey()).append('+').append(at).append(": ours ").append(i.get().length())
                .append(", objdump ").append(theirs == null ? "no instruction here" : theirs[0] + " " + theirs[1])
                .append('\n');
          }
          whole = false;
          break;
        }
        decoded++;
        at += i.get().length();
      }
      if (whole) {
        decodedFunctions++;
      } else {
        stoppedEarly++;
      }
    }
    System.out.printf("decoder vs objdump: %d instructions agree; %d functions decoded whole, %d stop at an"
        + " instruction the decoder does not know; %d mismatches%n", decoded, decodedFunctions, stoppedEarly,
        mismatchCount);
    assertEquals(0, mismatchCount, "length mismatches:\n" + mismatches);
    assertTrue(decodedFunctions > functions.size() / 2, decodedFunctions + " of " + functions.size() + " whole");
  }

  @Test
  void hotFunctionsGetAnEmulatedInstructionAfterTheirSingleSteppedCheck() throws Exception {
    Map<String, ProbePlacement> placements = ProbePlacement.inLibrary(libc, HOT);
    for (String function : HOT) {
      ProbePlacement p = placements.get(function);
      assertTrue(p != null, function + " not found");
      long base = libc.symbol(function).orElseThrow().value();
      long address = base + p.offset();
      String mnemonic = objdump.get(address)[1];
      System.out.printf("%-15s +%-3d %-8s %s%n", function, p.offset(), mnemonic, p.reason());
      if (p.emulated()) {
        assertTrue(mnemonic.startsWith("j") || mnemonic.startsWith("push") || mnemonic.startsWith("nop")
            || mnemonic.startsWith("call"), function + ": objdump calls +" + p.offset() + " " + mnemonic);
      }
      // Whatever precedes the probe must be what objdump shows as flag-only or non-argument work.
      for (long at = 0; at < p.offset(); ) {
        String[] before = objdump.get(base + at);
        assertTrue(List.of("test", "cmp", "cmpb", "cmpq", "cmpl", "mov", "endbr64", "xor").contains(before[1]),
            function + "+" + at + " " + before[1] + " precedes the probe");
        at += Integer.parseInt(before[0]);
      }
    }
    // glibc 2.36's wrappers test __libc_single_threaded first (single-stepped): not at the entry.
    for (String wrapper : List.of("read", "write", "close", "connect", "free")) {
      assertTrue(placements.get(wrapper).offset() > 0 && placements.get(wrapper).emulated(),
          wrapper + ": " + placements.get(wrapper));
    }
  }

  @Test
  void fallsBackToTheEntryWhenItCannotBeSure() {
    // mov %rsi,%rdi ; je +0 ; ret: the first instruction changes an argument register.
    ProbePlacement clobbers = ProbePlacement.choose("f", bytes(0x48, 0x89, 0xf7, 0x74, 0x00, 0xc3));
    assertEquals(0, clobbers.offset(), clobbers.reason());
    // test %rdi,%rdi ; je +1 ; ret ; jmp back to the je: a second way into the probed instruction.
    ProbePlacement reentered = ProbePlacement.choose("f", bytes(0x48, 0x85, 0xff, 0x74, 0x01, 0xc3, 0xeb, 0xfb));
    assertEquals(0, reentered.offset(), reentered.reason());
    assertTrue(reentered.reason().contains("lands on +3"), reentered.reason());
    // test %rdi,%rdi ; then a VEX-encoded instruction: not decodable, so not trusted.
    ProbePlacement unknown = ProbePlacement.choose("f", bytes(0x48, 0x85, 0xff, 0xc5, 0xf9, 0x6f, 0xc1, 0xc3));
    assertEquals(0, unknown.offset(), unknown.reason());
    assertTrue(unknown.reason().contains("not decodable"), unknown.reason());
    // The good case: test %rdi,%rdi ; je +1 ; ret ; ret.
    ProbePlacement good = ProbePlacement.choose("f", bytes(0x48, 0x85, 0xff, 0x74, 0x01, 0xc3, 0xc3));
    assertEquals(3, good.offset(), good.reason());
    assertTrue(good.emulated());
  }

  private static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }
}
