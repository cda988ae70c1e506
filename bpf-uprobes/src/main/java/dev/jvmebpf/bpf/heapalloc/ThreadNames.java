package dev.jvmebpf.bpf.heapalloc;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Java names of the threads the kernel knows by tid and {@code JavaThread*}.
 *
 * <p>A live platform thread's {@code java.lang.Thread.eetop} holds its {@code JavaThread*},
 * which the allocation probes capture; that gives the full Java name. Reading it needs
 * {@code java.lang} opened to this module (the agent does so; elsewhere the field stays shut).
 * Without it, or for a thread that has ended, the kernel's name of the thread is used: HotSpot
 * sets it from the Java name at thread start, truncated to 15 bytes.
 */
final class ThreadNames {

  private final Field eetop;

  ThreadNames() {
    this.eetop = eetopField();
  }

  private static Field eetopField() {
    try {
      Field f = Thread.class.getDeclaredField("eetop");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** Whether full Java names are available (else kernel names, at most 15 bytes). */
  boolean hasJavaNames() {
    return eetop != null;
  }

  /** JavaThread* to name, for every live platform thread. */
  Map<Long, String> liveJavaThreads() {
    Map<Long, String> out = new HashMap<>();
    if (eetop == null) {
      return out;
    }
    ThreadGroup root = Thread.currentThread().getThreadGroup();
    while (root.getParent() != null) {
      root = root.getParent();
    }
    Thread[] threads = new Thread[root.activeCount() + 16];
    int n;
    while ((n = root.enumerate(threads, true)) == threads.length) {
      threads = new Thread[threads.length * 2];
    }
    for (int i = 0; i < n; i++) {
      try {
        long p = eetop.getLong(threads[i]);
        if (p != 0) {
          out.put(p, threads[i].getName());
        }
      } catch (IllegalAccessException | RuntimeException e) {
        // The thread ended meanwhile, or the field became unreadable: fall back to comm.
      }
    }
    return out;
  }

  /**
   * A Java name as the kernel keeps it when its thread ends: its UTF-8 bytes cut to
   * {@link AllocationStructs#THREAD_NAME_LEN} - 1, and decoded again.
   */
  static String cut(String name) {
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    int max = AllocationStructs.THREAD_NAME_LEN - 1;
    return utf8.length <= max ? name : new String(utf8, 0, max, StandardCharsets.UTF_8);
  }

  /**
   * Whether the thread {@code tid} (as our pid namespace numbers it, as the probes key it) of
   * this process still runs.
   */
  static boolean isAlive(int tid) {
    return Files.exists(Path.of("/proc/self/task/" + tid));
  }

  /** The kernel's name of a thread, from the bytes the probe captured. */
  static String comm(byte[] comm) {
    int end = 0;
    while (end < comm.length && comm[end] != 0) {
      end++;
    }
    return new String(comm, 0, end, StandardCharsets.UTF_8);
  }

  static String commOf(int tid) {
    try {
      return Files.readString(Path.of("/proc/self/task/" + tid + "/comm")).strip();
    } catch (IOException e) {
      return "";
    }
  }
}
