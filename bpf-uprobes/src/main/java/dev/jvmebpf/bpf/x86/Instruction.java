package dev.jvmebpf.bpf.x86;

/**
 * One decoded x86-64 instruction, as far as probe placement needs it.
 *
 * @param offset where it starts, in the function
 * @param length its length in bytes
 * @param emulated whether the kernel emulates a uprobe on it (relative jumps, calls and
 *     conditional branches, push of a register, nop) instead of single-stepping it
 * @param branchTarget the function offset a relative jump or call goes to, or -1
 * @param harmless whether it only reads and sets flags or registers that are neither an argument
 *     register (rdi, rsi, rdx, rcx, r8, r9) nor rsp, writes no memory and does not branch: a
 *     probe placed after it still sees the call's arguments and return address untouched
 */
public record Instruction(int offset, int length, boolean emulated, long branchTarget, boolean harmless) {}
