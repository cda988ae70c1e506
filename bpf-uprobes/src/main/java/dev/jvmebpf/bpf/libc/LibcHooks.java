package dev.jvmebpf.bpf.libc;

import dev.jvmebpf.bpf.elf.ElfFile;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfObject;
import dev.jvmebpf.bpf.libbpf.BpfUnsupportedException;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Attaches a family's programs to functions of our own libc, for our pid only, each where
 * {@link ProbePlacement} decided from the function's machine code (or at its entry when asked).
 * Each program is attached with one uprobe_multi link where the kernel has them (each place with
 * its cookie), which matters when detaching: the kernel takes about 70 ms to remove a link,
 * and a perf-event uprobe link per place would add up.
 */
public final class LibcHooks {

  /**
   * One libc function and its programs.
   *
   * @param function the libc symbol
   * @param entry the program run when the function is called
   * @param exit the program run when it returns, null for none
   * @param cookie what the programs read with bpf_get_attach_cookie for this function
   */
  public record Hook(String function, String entry, String exit, long cookie) {
    public Hook(String function, String entry, String exit) {
      this(function, entry, exit, 0);
    }
  }

  /**
   * What was attached.
   *
   * @param placements where each attached function was probed and why
   * @param missing functions this libc does not have (left out)
   * @param links the links made (fewer than hooks with uprobe_multi)
   */
  public record Attached(List<ProbePlacement> placements, List<String> missing, int links) {}

  private LibcHooks() {}

  /** Fails, as unsupported, when this JVM has no glibc mapped (the only libc the hooks know). */
  public static void requireLibc(JvmProcess jvm, String family) throws BpfUnsupportedException {
    if (jvm.libc().isEmpty()) {
      throw new BpfUnsupportedException(family + ": no libc.so in /proc/self/maps (not glibc?)", 0);
    }
  }

  /**
   * Loads the object (its multi-function programs prepared first) and attaches every hook, for
   * a family that needs all of its functions: a libc lacking any fails, as unsupported.
   *
   * @return where each function was probed
   */
  public static List<ProbePlacement> loadAndAttachEvery(BpfObject object, JvmProcess jvm, List<Hook> hooks,
      boolean atEntry, String family) throws BpfException {
    prepare(object, hooks);
    object.load();
    Attached attached = attach(object, jvm, hooks, atEntry, family);
    if (!attached.missing().isEmpty()) {
      throw new BpfUnsupportedException(family + ": this libc has no " + String.join(", ", attached.missing()), 0);
    }
    return attached.placements();
  }

  /** Before load: every hook's program will use uprobe_multi links if the kernel has them. */
  public static void prepare(BpfObject object, List<Hook> hooks) throws BpfException {
    for (Hook hook : hooks) {
      object.preferUprobeMulti(hook.entry());
      if (hook.exit() != null) {
        object.preferUprobeMulti(hook.exit());
      }
    }
  }

  /**
   * Attaches every hook; a function this libc lacks is left out and reported. The return
   * programs go first, so that a call whose entry was recorded also has its return seen.
   *
   * @param atEntry probe every function at offset 0 instead of where decoding found an emulated
   *     instruction (for comparisons)
   */
  public static Attached attach(BpfObject object, JvmProcess jvm, List<Hook> hooks, boolean atEntry, String family)
      throws BpfException {
    Path libc = jvm.libc().orElseThrow(() -> new BpfException(family + ": no libc.so in /proc/self/maps", 0));
    List<String> functions = new ArrayList<>();
    for (Hook hook : hooks) {
      if (!functions.contains(hook.function())) {
        functions.add(hook.function());
      }
    }
    Map<String, ProbePlacement> decided = new LinkedHashMap<>();
    Map<String, Long> fileOffsets = new LinkedHashMap<>();
    try {
      ElfFile elf = jvm.libcElf();
      decided.putAll(ProbePlacement.inLibrary(elf, functions, atEntry));
      Map<String, ElfFile.Symbol> symbols = elf.symbols(decided.keySet());
      for (ProbePlacement p : decided.values()) {
        long symbol = symbols.get(p.function()).value();
        OptionalLong at = elf.fileOffsetOf(symbol + p.offset());
        if (at.isEmpty()) {
          throw new BpfException(family + ": " + p.function() + " of " + libc + " is in no loaded segment", 0);
        }
        fileOffsets.put(p.function(), at.getAsLong());
      }
    } catch (IOException e) {
      throw new BpfException(family + ": read " + libc + ": " + e.getMessage(), e);
    }
    List<String> missing = new ArrayList<>();
    // Program -> its places and cookies, returns first.
    Map<String, List<long[]>> exits = new LinkedHashMap<>();
    Map<String, List<long[]>> entries = new LinkedHashMap<>();
    for (Hook hook : hooks) {
      Long at = fileOffsets.get(hook.function());
      if (at == null) {
        if (!missing.contains(hook.function())) {
          missing.add(hook.function());
        }
        continue;
      }
      if (hook.exit() != null) {
        exits.computeIfAbsent(hook.exit(), k -> new ArrayList<>()).add(new long[] {at, hook.cookie()});
      }
      entries.computeIfAbsent(hook.entry(), k -> new ArrayList<>()).add(new long[] {at, hook.cookie()});
    }
    int before = object.linkCount();
    attachAll(object, jvm.pid(), libc, exits, true);
    attachAll(object, jvm.pid(), libc, entries, false);
    return new Attached(List.copyOf(decided.values()), List.copyOf(missing), object.linkCount() - before);
  }

  private static void attachAll(BpfObject object, int pid, Path libc, Map<String, List<long[]>> byProgram,
      boolean returnProbe) throws BpfException {
    for (Map.Entry<String, List<long[]>> program : byProgram.entrySet()) {
      List<long[]> places = program.getValue();
      long[] offsets = new long[places.size()];
      long[] cookies = new long[places.size()];
      for (int i = 0; i < offsets.length; i++) {
        offsets[i] = places.get(i)[0];
        cookies[i] = places.get(i)[1];
      }
      object.attachUprobes(program.getKey(), pid, libc, offsets, cookies, returnProbe);
    }
  }
}
