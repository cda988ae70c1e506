package dev.jvmebpf.bpf.events;

import dev.jvmebpf.bpf.elf.ElfFile;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the library of this process that exports the OTEP 4947 thread-local pointer
 * {@code otel_thread_ctx_v1}: an ELF TLS symbol defined in the library's .dynsym. Each call
 * examines only the libraries with TLS loaded since the previous one (libraries the application
 * loads later, such as a profiler's, are found on a later call); a file examined once is not read
 * again. glibc only (its loader's list and TLS layout). Not thread-safe: one caller.
 */
public final class ThreadContextLocator {

  /**
   * Where the pointer lives in every thread: the library, glibc's TLS module id of it, the
   * symbol's offset in the module's TLS block and, when the module's TLS is static, the distance
   * from the thread pointer down to the pointer (0: dynamic TLS, found through the module id).
   */
  public record Location(Path library, long module, long offset, long threadPointerOffset) {}

  /** What the C library knows of the loaded libraries' TLS (Libbpf's methods of the same names). */
  public interface Tls {
    /** The loaded libraries that have TLS, by glibc's TLS module id. */
    Map<Long, String> tlsObjects();

    /** The calling thread's pointer minus its address of {@code symbol}; 0: unknown. */
    long tlsThreadPointerOffset(String path, String symbol);

    /** How many objects the dynamic loader has loaded so far; 0: unknown. */
    long loadedObjects();
  }

  private final Tls tls;
  private final Set<String> examined = new HashSet<>();
  private long loadedObjects = -1;

  public ThreadContextLocator(Tls tls) {
    this.tls = tls;
  }

  /** A locator asking the bundled C library. */
  public static ThreadContextLocator of(Libbpf libbpf) {
    return new ThreadContextLocator(new Tls() {
      @Override
      public Map<Long, String> tlsObjects() {
        return libbpf.tlsObjects();
      }

      @Override
      public long tlsThreadPointerOffset(String path, String symbol) {
        return libbpf.tlsThreadPointerOffset(path, symbol);
      }

      @Override
      public long loadedObjects() {
        return libbpf.loadedObjects();
      }
    });
  }

  /**
   * The libraries loaded since the last call that export the pointer, in the loader's order;
   * empty when none. While the dynamic loader has loaded nothing new, this reads nothing;
   * otherwise only the new libraries that have TLS, from the loader's own list (no /proc).
   */
  public List<Location> findNew() {
    long loaded = tls.loadedObjects();
    if (loaded != 0 && loaded == loadedObjects) {
      return List.of();
    }
    loadedObjects = loaded;
    List<Location> found = new ArrayList<>();
    for (Map.Entry<Long, String> object : tls.tlsObjects().entrySet()) {
      if (examined.add(object.getValue())) {
        examine(Path.of(object.getValue()), object.getKey()).ifPresent(found::add);
      }
    }
    return found;
  }

  private Optional<Location> examine(Path path, long module) {
    try {
      ElfFile elf = ElfFile.read(path);
      Optional<ElfFile.Symbol> symbol = elf.dynamicSymbol(EventStructs.THREAD_CTX_SYMBOL)
          .filter(s -> s.type() == ElfFile.Symbol.STT_TLS && s.section() != 0);
      if (symbol.isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(new Location(path, module, symbol.get().value(), staticOffset(path.toString())));
    } catch (IOException | RuntimeException unreadable) {
      return Optional.empty(); // deleted or replaced since it was loaded
    }
  }

  /**
   * The variable's distance below the thread pointer when it is the same in two threads (this
   * one and a short-lived other): that is static TLS, where a thread that accesses the variable
   * through TLSDESC never fills its dynamic thread vector's slot. 0 otherwise: dynamic TLS.
   */
  private long staticOffset(String path) {
    long here = tls.tlsThreadPointerOffset(path, EventStructs.THREAD_CTX_SYMBOL);
    long[] there = new long[1];
    Thread other = new Thread(() -> there[0] = tls.tlsThreadPointerOffset(path, EventStructs.THREAD_CTX_SYMBOL),
        "jvm-ebpf-agent-tls");
    other.setDaemon(true);
    other.start();
    try {
      other.join(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
    return here > 0 && here == there[0] ? here : 0;
  }
}
