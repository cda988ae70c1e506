package dev.jvmebpf.bpf.process;

import dev.jvmebpf.bpf.elf.ElfFile;
import dev.jvmebpf.bpf.hist.HistStructs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * This JVM as the probes see it: its pid and pid namespace (the programs' filter), the
 * libjvm.so and libc it runs on and where libjvm is loaded.
 */
public final class JvmProcess {

  private final int pid;
  private final long pidNamespaceDevice;
  private final long pidNamespaceInode;
  private final Path libjvm;
  private final Path libc;
  private final long libjvmBase;
  private ElfFile libjvmElf;
  private ElfFile libcElf;

  private JvmProcess(int pid, long pidNamespaceDevice, long pidNamespaceInode, Path libjvm, Path libc,
      long libjvmBase) {
    this.pid = pid;
    this.pidNamespaceDevice = pidNamespaceDevice;
    this.pidNamespaceInode = pidNamespaceInode;
    this.libjvm = libjvm;
    this.libc = libc;
    this.libjvmBase = libjvmBase;
  }

  /** The running JVM; IOException when it is not a HotSpot JVM on Linux with a libjvm.so. */
  public static JvmProcess current() throws IOException {
    ProcessMaps maps = ProcessMaps.self();
    Path libjvm = maps.library("libjvm.so")
        .orElseThrow(() -> new IOException("no libjvm.so in /proc/self/maps: not a HotSpot JVM"));
    Path libc = maps.library("libc.so").orElse(null);
    long base = maps.baseOf(libjvm)
        .orElseThrow(() -> new IOException("libjvm.so has no mapping at file offset 0"));
    Path ns = Path.of("/proc/self/ns/pid");
    long device = ((Number) Files.getAttribute(ns, "unix:dev")).longValue();
    long inode = ((Number) Files.getAttribute(ns, "unix:ino")).longValue();
    return new JvmProcess((int) selfPid(), device, inode, libjvm, libc, base);
  }

  /**
   * This process's pid in its own pid namespace, as getpid() returns it: the last value of the
   * NSpid line of /proc/self/status (whichever namespace mounted /proc), else its Pid line. Not
   * ProcessHandle.current(), whose first use sets up the JDK's process reaper (about 10 ms of
   * the agent's start); that only when /proc says neither.
   */
  public static long selfPid() {
    try {
      String nsPid = null;
      String pid = null;
      for (String line : new String(Files.readAllBytes(Path.of("/proc/self/status")),
          java.nio.charset.StandardCharsets.ISO_8859_1).split("\n")) {
        if (line.startsWith("NSpid:")) {
          String values = line.substring(6).trim(); // "1234", or "1234\t1" in a namespace
          nsPid = values.substring(Math.max(values.lastIndexOf('\t'), values.lastIndexOf(' ')) + 1);
        } else if (line.startsWith("Pid:")) {
          pid = line.substring(4).trim();
        }
      }
      return Long.parseLong(nsPid != null ? nsPid : pid);
    } catch (IOException | RuntimeException e) {
      return ProcessHandle.current().pid();
    }
  }

  public int pid() {
    return pid;
  }

  public Path libjvm() {
    return libjvm;
  }

  public Optional<Path> libc() {
    return Optional.ofNullable(libc);
  }

  /** libjvm.so parsed (mapped read-only once, on first use). */
  public synchronized ElfFile libjvmElf() throws IOException {
    if (libjvmElf == null) {
      libjvmElf = ElfFile.read(libjvm);
    }
    return libjvmElf;
  }

  /** libc parsed (mapped read-only once, on first use); IOException when there is no libc. */
  public synchronized ElfFile libcElf() throws IOException {
    if (libc == null) {
      throw new IOException("no libc.so in /proc/self/maps (not glibc?)");
    }
    if (libcElf == null) {
      libcElf = ElfFile.read(libc);
    }
    return libcElf;
  }

  /**
   * Run-time address of a libjvm symbol (a variable or function), from its .symtab/.dynsym
   * value and where libjvm is loaded; empty when the symbol is absent.
   */
  public Optional<Long> libjvmAddress(String symbol) throws IOException {
    return Optional.ofNullable(libjvmAddresses(List.of(symbol)).get(symbol));
  }

  /** {@link #libjvmAddress} of each of {@code symbols} (those present), in one read of the symbol tables. */
  public Map<String, Long> libjvmAddresses(Collection<String> symbols) throws IOException {
    Map<String, Long> addresses = new HashMap<>();
    for (ElfFile.Symbol found : libjvmElf().symbols(symbols).values()) {
      addresses.put(found.name(), libjvmAddress(found));
    }
    return addresses;
  }

  /**
   * Where in libjvm.so's file the code of {@code symbol} begins: what a uprobe on it attaches to,
   * given as an offset so that libbpf need not search libjvm's symbol tables again (about 5 ms
   * per probe).
   */
  public long libjvmFileOffset(String symbol) throws IOException {
    ElfFile.Symbol found = libjvmElf().symbols(List.of(symbol)).get(symbol);
    if (found == null) {
      throw new IOException("no symbol " + symbol + " in " + libjvm);
    }
    return libjvmElf().fileOffsetOf(found.value())
        .orElseThrow(() -> new IOException(symbol + " of " + libjvm + " is in no loaded segment"));
  }

  /** Run-time address of a symbol of libjvm's symbol tables. */
  public long libjvmAddress(ElfFile.Symbol symbol) throws IOException {
    // A shared object's first PT_LOAD (file offset 0) maps at base + its p_vaddr.
    long firstVaddr = 0;
    for (ElfFile.Segment segment : libjvmElf().loadSegments()) {
      if (segment.offset() == 0) {
        firstVaddr = segment.virtualAddress();
        break;
      }
    }
    return libjvmBase - firstVaddr + symbol.value();
  }

  /** Writes this process as a {@code struct process_filter} at the buffer's position. */
  public void writeFilter(ByteBuffer out) {
    int at = out.position();
    out.putLong(at + HistStructs.PROCESS_FILTER.offset("pidns_dev"), pidNamespaceDevice);
    out.putLong(at + HistStructs.PROCESS_FILTER.offset("pidns_ino"), pidNamespaceInode);
    out.putInt(at + HistStructs.PROCESS_FILTER.offset("tgid"), pid);
  }

  @Override
  public String toString() {
    return "JvmProcess[pid=" + pid + ", libjvm=" + libjvm + ", libc=" + libc + "]";
  }
}
