package dev.jvmebpf.bpf.libc;

import dev.jvmebpf.bpf.elf.ElfFile;
import dev.jvmebpf.bpf.x86.Instruction;
import dev.jvmebpf.bpf.x86.InstructionDecoder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where to put the uprobe (and uretprobe) of a function so that the kernel emulates the probed
 * instruction instead of single-stepping it, decided per function from its own machine code:
 * the first emulated instruction that every call reaches exactly once with its arguments and
 * return address untouched. That holds when every instruction before it is straight-line and
 * harmless (see {@link Instruction#harmless}) and no branch anywhere in the function lands
 * between the entry and it. Otherwise, or when any instruction of the function cannot be
 * decoded, the probe goes to the entry (offset 0) and the reason says why.
 *
 * @param offset the probe's offset from the function's symbol
 * @param emulated whether the instruction at {@code offset} is one the kernel emulates
 * @param reason what was decided, for logs and {@code doctor}
 */
public record ProbePlacement(String function, long offset, boolean emulated, String reason) {

  /** Decides for one function's code (the bytes of its symbol, size included). */
  public static ProbePlacement choose(String function, byte[] code) {
    List<Instruction> instructions = new ArrayList<>();
    for (int at = 0; at < code.length; ) {
      Optional<Instruction> i = InstructionDecoder.decode(code, at);
      if (i.isEmpty()) {
        return entry(function, code, "instruction at +" + at + " not decodable");
      }
      instructions.add(i.get());
      at += i.get().length();
    }
    for (Instruction i : instructions) {
      if (i.emulated()) {
        for (Instruction other : instructions) {
          if (other.branchTarget() > 0 && other.branchTarget() <= i.offset()) {
            return entry(function, code, "a branch at +" + other.offset() + " lands on +" + other.branchTarget());
          }
        }
        return new ProbePlacement(function, i.offset(), true, i.offset() == 0 ? "entry is emulated"
            : "+" + i.offset() + " is the first emulated instruction, after harmless ones");
      }
      if (!i.harmless()) {
        return entry(function, code, "+" + i.offset() + " may change arguments or the stack before any emulated"
            + " instruction");
      }
    }
    return entry(function, code, "no emulated instruction");
  }

  private static ProbePlacement entry(String function, byte[] code, String why) {
    boolean emulated = InstructionDecoder.decode(code, 0).map(Instruction::emulated).orElse(false);
    return new ProbePlacement(function, 0, emulated, "entry (" + why + ")");
  }

  /** Decides for each function found in {@code elf}; functions it lacks are left out. */
  public static Map<String, ProbePlacement> inLibrary(ElfFile elf, List<String> functions) throws IOException {
    return inLibrary(elf, functions, false);
  }

  /**
   * Decides for each function found in {@code elf}, or places every probe at the function's
   * entry when {@code atEntry} (for comparisons); functions it lacks are left out.
   */
  public static Map<String, ProbePlacement> inLibrary(ElfFile elf, List<String> functions, boolean atEntry)
      throws IOException {
    Map<String, ProbePlacement> out = new LinkedHashMap<>();
    Map<String, ElfFile.Symbol> symbols = elf.symbols(functions);
    for (String function : functions) {
      Optional<byte[]> code = code(elf, symbols.get(function));
      if (code.isPresent()) {
        out.put(function, atEntry ? entry(function, code.get(), "as configured") : choose(function, code.get()));
      }
    }
    return out;
  }

  /** The bytes of a function symbol, from the section that holds them. */
  static Optional<byte[]> code(ElfFile elf, String function) throws IOException {
    return code(elf, elf.symbol(function).orElse(null));
  }

  /** The bytes of a function (null: none), read from the section that holds them. */
  private static Optional<byte[]> code(ElfFile elf, ElfFile.Symbol symbol) throws IOException {
    if (symbol == null || symbol.size() <= 0 || symbol.size() > Integer.MAX_VALUE
        || symbol.type() != ElfFile.Symbol.STT_FUNC) {
      return Optional.empty();
    }
    long address = symbol.value();
    for (ElfFile.Section section : elf.sections()) {
      if (section.address() <= address && address + symbol.size() <= section.address() + section.size()
          && section.type() != 8 /* SHT_NOBITS */ && section.address() != 0) {
        return Optional.of(elf.contents(section, address - section.address(), (int) symbol.size()));
      }
    }
    return Optional.empty();
  }
}
