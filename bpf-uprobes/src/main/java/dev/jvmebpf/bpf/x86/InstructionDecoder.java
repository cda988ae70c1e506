package dev.jvmebpf.bpf.x86;

import java.util.Optional;

/**
 * A length decoder for the x86-64 integer and SSE instructions that glibc's functions are made of
 * (legacy prefixes, REX, the one-byte map and the 0x0F map with its 0x38/0x3A escapes). It knows
 * lengths, relative branch targets, which instructions the kernel emulates under a uprobe, and
 * which cannot disturb a call's arguments. Anything it does not know (VEX/EVEX encodings, x87,
 * opcodes invalid in 64-bit mode) is reported as undecodable, never guessed.
 *
 * <p>The kernel (arch/x86/kernel/uprobes.c) emulates relative jmp/jcc/call, push of a register
 * (with at most REX.B) and nops; it single-steps everything else, which costs about ten times
 * as much (PLATFORM.md). Prefixed branches are not taken as emulated.
 */
public final class InstructionDecoder {

  private static final int RDI = 7;
  private static final int RSI = 6;
  private static final int RDX = 2;
  private static final int RCX = 1;
  private static final int RSP = 4;
  private static final int R8 = 8;
  private static final int R9 = 9;

  private InstructionDecoder() {}

  /** The instruction at {@code offset} of {@code code}; empty when it cannot be decoded. */
  public static Optional<Instruction> decode(byte[] code, int offset) {
    try {
      return Optional.ofNullable(decodeOrNull(code, offset));
    } catch (ArrayIndexOutOfBoundsException truncated) {
      return Optional.empty();
    }
  }

  private static Instruction decodeOrNull(byte[] code, int offset) {
    int at = offset;
    boolean operandSize16 = false;
    boolean anyPrefix = false;
    boolean repz = false;
    // Legacy prefixes, in any order.
    while (true) {
      int b = u8(code, at);
      if (b == 0x66) {
        operandSize16 = true;
      } else if (b == 0xf3) {
        repz = true;
      } else if (!(b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26
          || b == 0x64 || b == 0x65)) {
        break;
      }
      anyPrefix = true;
      at++;
    }
    int rex = 0;
    if ((u8(code, at) & 0xf0) == 0x40) {
      rex = u8(code, at);
      at++;
    }
    boolean rexW = (rex & 8) != 0;
    int opcode = u8(code, at++);
    int start = offset;

    if (opcode == 0x0f) {
      return twoByte(code, start, at, operandSize16, anyPrefix || rex != 0, repz, rex);
    }
    // One-byte map.
    if (opcode < 0x40 && (opcode & 7) < 6) {
      // ALU: add, or, adc, sbb, and, sub, xor, cmp.
      boolean isCmp = (opcode & 0x38) == 0x38;
      int form = opcode & 7;
      if (form <= 3) {
        ModRm m = modRm(code, at, rex);
        // 0x38/0x39 cmp r/m, r; 0x3a/0x3b cmp r, r/m: flags only. Byte forms (0, 2) name ch and
        // dh, parts of argument registers: not counted as harmless.
        boolean harmless = isCmp;
        if (!isCmp) {
          harmless = (form == 1 || form == 3) && writesSafeRegister(form == 1, m);
        }
        return plain(start, m.end - start, harmless);
      }
      int imm = form == 4 ? 1 : (operandSize16 ? 2 : 4);
      // AL/eAX with an immediate: rax is not an argument register.
      return plain(start, at + imm - start, true);
    }
    if (opcode >= 0x50 && opcode <= 0x5f) {
      boolean push = opcode < 0x58;
      boolean onlyRexB = rex == 0 || rex == 0x41;
      return new Instruction(start, at - start, push && !anyPrefix && onlyRexB, -1, false);
    }
    switch (opcode) {
      case 0x63: // movsxd r, r/m
        return regDestination(code, start, at, rex, 0);
      case 0x68:
        return plain(start, at + (operandSize16 ? 2 : 4) - start, false);
      case 0x6a:
        return plain(start, at + 1 - start, false);
      case 0x69:
        return plainModRm(code, start, at, rex, operandSize16 ? 2 : 4, false);
      case 0x6b:
        return plainModRm(code, start, at, rex, 1, false);
      case 0x80: case 0x83: {
        ModRm m = modRm(code, at, rex);
        return plain(start, m.end + 1 - start, m.regField == 7);
      }
      case 0x81: {
        ModRm m = modRm(code, at, rex);
        return plain(start, m.end + (operandSize16 ? 2 : 4) - start, m.regField == 7);
      }
      case 0x84: case 0x85: // test
        return plainModRm(code, start, at, rex, 0, true);
      case 0x86: case 0x87: // xchg
        return plainModRm(code, start, at, rex, 0, false);
      case 0x88: case 0x8a: // byte moves: ch and dh are parts of argument registers
        return plainModRm(code, start, at, rex, 0, false);
      case 0x89: { // mov r/m, r
        ModRm m = modRm(code, at, rex);
        return plain(start, m.end - start, writesSafeRegister(true, m));
      }
      case 0x8b: // mov r, r/m
      case 0x8d: // lea r, m
        return regDestination(code, start, at, rex, 0);
      case 0x8c: case 0x8e: case 0x8f:
        return plainModRm(code, start, at, rex, 0, false);
      case 0x90:
        // nop (pause with f3); xchg r8, rax with REX.B.
        return new Instruction(start, at - start, !anyPrefix && rex == 0, -1, rex == 0);
      case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
      case 0x98: case 0x99: case 0x9c: case 0x9d: case 0x9e: case 0x9f:
      case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab: case 0xac: case 0xad: case 0xae: case 0xaf:
      case 0xc9: case 0xcc: case 0xf4: case 0xf5: case 0xf8: case 0xf9: case 0xfc: case 0xfd:
        return plain(start, at - start, false);
      case 0xa8:
        return plain(start, at + 1 - start, true);
      case 0xa9:
        return plain(start, at + (operandSize16 ? 2 : 4) - start, true);
      case 0xc0: case 0xc1: case 0xc6:
        return plainModRm(code, start, at, rex, 1, false);
      case 0xc7:
        return plainModRm(code, start, at, rex, operandSize16 ? 2 : 4, false);
      case 0xc2:
        return new Instruction(start, at + 2 - start, false, -1, false);
      case 0xc3:
        return new Instruction(start, at - start, false, -1, false);
      case 0xd0: case 0xd1: case 0xd2: case 0xd3:
        return plainModRm(code, start, at, rex, 0, false);
      case 0xe8: case 0xe9: {
        int rel = s32(code, at);
        int end = at + 4;
        return new Instruction(start, end - start, !anyPrefix && rex == 0, (long) end + rel, false);
      }
      case 0xeb: {
        int rel = (byte) code[at];
        int end = at + 1;
        return new Instruction(start, end - start, !anyPrefix && rex == 0, (long) end + rel, false);
      }
      case 0xf6: {
        ModRm m = modRm(code, at, rex);
        boolean test = m.regField <= 1;
        return plain(start, m.end + (test ? 1 : 0) - start, test);
      }
      case 0xf7: {
        ModRm m = modRm(code, at, rex);
        boolean test = m.regField <= 1;
        return plain(start, m.end + (test ? (operandSize16 ? 2 : 4) : 0) - start, test);
      }
      case 0xfe: case 0xff: {
        ModRm m = modRm(code, at, rex);
        return plain(start, m.end - start, false);
      }
      default:
        break;
    }
    if (opcode >= 0x70 && opcode <= 0x7f) {
      int rel = (byte) code[at];
      int end = at + 1;
      return new Instruction(start, end - start, !anyPrefix && rex == 0, (long) end + rel, false);
    }
    if (opcode >= 0xb0 && opcode <= 0xb7) {
      int reg = (opcode & 7) | ((rex & 1) << 3);
      return plain(start, at + 1 - start, false); // byte registers: ch and dh are parts of rcx and rdx
    }
    if (opcode >= 0xb8 && opcode <= 0xbf) {
      int reg = (opcode & 7) | ((rex & 1) << 3);
      int imm = rexW ? 8 : (operandSize16 ? 2 : 4);
      return plain(start, at + imm - start, !isArgumentOrStack(reg));
    }
    return null;
  }

  private static Instruction twoByte(byte[] code, int start, int at, boolean operandSize16, boolean prefixed,
      boolean repz, int rex) {
    int op = u8(code, at++);
    if (op >= 0x80 && op <= 0x8f) {
      int rel = s32(code, at);
      int end = at + 4;
      return new Instruction(start, end - start, !prefixed, (long) end + rel, false);
    }
    switch (op) {
      case 0x05: case 0x0b: case 0x31: case 0xa2:
        return plain(start, at - start, false);
      case 0x1e: {
        ModRm m = modRm(code, at, rex);
        // endbr64 (f3 0f 1e fa) is a nop for us.
        return plain(start, m.end - start, repz && u8(code, at) == 0xfa);
      }
      case 0x1f: {
        ModRm m = modRm(code, at, rex);
        return new Instruction(start, m.end - start, !prefixed, -1, true);
      }
      case 0x38: {
        at++; // third opcode byte
        return plainModRm(code, start, at, rex, 0, false);
      }
      case 0x3a: {
        at++;
        return plainModRm(code, start, at, rex, 1, false);
      }
      case 0x70: case 0x71: case 0x72: case 0x73: case 0xa4: case 0xac: case 0xba: case 0xc2: case 0xc4:
      case 0xc5: case 0xc6:
        return plainModRm(code, start, at, rex, 1, false);
      default:
        break;
    }
    if (op >= 0xc8 && op <= 0xcf) {
      return plain(start, at - start, false); // bswap
    }
    boolean modRmOps = (op >= 0x10 && op <= 0x17) || op == 0x18 || op == 0x0d || (op >= 0x28 && op <= 0x2f)
        || (op >= 0x40 && op <= 0x6f) || (op >= 0x74 && op <= 0x7f) || (op >= 0x90 && op <= 0x9f)
        || op == 0xa3 || op == 0xa5 || op == 0xab || op == 0xad || op == 0xaf || op == 0xb0 || op == 0xb1
        || op == 0xb3 || (op >= 0xb6 && op <= 0xb8) || (op >= 0xbb && op <= 0xbf) || op == 0xc0 || op == 0xc1
        || op == 0xc3 || op == 0xc7 || (op >= 0xd0 && op <= 0xfe) || op == 0x01 || op == 0x00;
    if (modRmOps) {
      return plainModRm(code, start, at, rex, 0, false);
    }
    return null;
  }

  private record ModRm(int mod, int regField, int rm, int end) {}

  /** ModRM (+SIB, +displacement) at {@code at}; reg and rm extended by REX.R and REX.B. */
  private static ModRm modRm(byte[] code, int at, int rex) {
    int modrm = u8(code, at++);
    int mod = modrm >> 6;
    int reg = ((modrm >> 3) & 7) | ((rex & 4) << 1);
    int rm = modrm & 7;
    if (mod != 3 && rm == 4) {
      int sib = u8(code, at++);
      if (mod == 0 && (sib & 7) == 5) {
        at += 4;
      }
    } else if (mod == 0 && rm == 5) {
      at += 4; // RIP-relative
    }
    if (mod == 1) {
      at += 1;
    } else if (mod == 2) {
      at += 4;
    }
    return new ModRm(mod, reg, mod == 3 ? rm | ((rex & 1) << 3) : -1, at);
  }

  private static Instruction plain(int start, int length, boolean harmless) {
    return new Instruction(start, length, false, -1, harmless);
  }

  private static Instruction plainModRm(byte[] code, int start, int at, int rex, int immediate, boolean harmless) {
    ModRm m = modRm(code, at, rex);
    return plain(start, m.end + immediate - start, harmless);
  }

  /** An instruction whose destination is the ModRM reg field (mov r, r/m; lea; movsxd). */
  private static Instruction regDestination(byte[] code, int start, int at, int rex, int immediate) {
    ModRm m = modRm(code, at, rex);
    return plain(start, m.end + immediate - start, !isArgumentOrStack(m.regField));
  }

  /**
   * Whether an instruction writing its r/m operand (when {@code toRm}) or its reg operand only
   * touches a register that is neither an argument register nor rsp (memory never counts).
   */
  private static boolean writesSafeRegister(boolean toRm, ModRm m) {
    if (toRm) {
      return m.mod == 3 && !isArgumentOrStack(m.rm);
    }
    return !isArgumentOrStack(m.regField);
  }

  private static boolean isArgumentOrStack(int reg) {
    return reg == RDI || reg == RSI || reg == RDX || reg == RCX || reg == R8 || reg == R9 || reg == RSP;
  }

  private static int u8(byte[] code, int at) {
    return code[at] & 0xff;
  }

  private static int s32(byte[] code, int at) {
    return (code[at] & 0xff) | (code[at + 1] & 0xff) << 8 | (code[at + 2] & 0xff) << 16 | code[at + 3] << 24;
  }
}
