package dev.jvmebpf.bpf.x86;

import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfObject;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Attaches a family's programs to functions of our own libc, for our pid only, each where
 * {@link ProbePlacement} decided from the function's machine code (or at its entry when asked).
 */
public final class LibcHooks {

  /**
   * One libc function and its programs.
   *
   * @param function the libc symbol
   * @param entry the program run when the function is called
   * @param exit the program run when it returns, null for none
   */
  public record Hook(String function, String entry, String exit) {}

  /**
   * What was attached.
   *
   * @param placements where each attached function was probed and why
   * @param missing functions this libc does not have (left out)
   */
  public record Attached(List<ProbePlacement> placements, List<String> missing) {}

  private LibcHooks() {}

  /**
   * Attaches every hook; a function this libc lacks is left out and reported. The return
   * program goes first, so that a call whose entry was recorded also has its return seen.
   *
   * @param atEntry probe every function at offset 0 instead of where decoding found an emulated
   *     instruction (for comparisons)
   */
  public static Attached attach(BpfObject object, JvmProcess jvm, List<Hook> hooks, boolean atEntry, String family)
      throws BpfException {
    Path libc = jvm.libc().orElseThrow(() -> new BpfException(family + ": no libc.so in /proc/self/maps", 0));
    List<String> functions = hooks.stream().map(Hook::function).distinct().toList();
    Map<String, ProbePlacement> decided = new LinkedHashMap<>();
    try {
      decided.putAll(ProbePlacement.inLibrary(jvm.libcElf(), functions, atEntry));
    } catch (IOException e) {
      throw new BpfException(family + ": read " + libc + ": " + e.getMessage(), e);
    }
    List<String> missing = new ArrayList<>();
    for (Hook hook : hooks) {
      ProbePlacement p = decided.get(hook.function());
      if (p == null) {
        if (!missing.contains(hook.function())) {
          missing.add(hook.function());
        }
        continue;
      }
      if (hook.exit() != null) {
        object.attachUprobe(hook.exit(), jvm.pid(), libc, hook.function(), p.offset(), true);
      }
      object.attachUprobe(hook.entry(), jvm.pid(), libc, hook.function(), p.offset(), false);
    }
    return new Attached(List.copyOf(decided.values()), List.copyOf(missing));
  }
}
