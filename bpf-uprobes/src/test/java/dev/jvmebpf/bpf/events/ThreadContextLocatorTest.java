package dev.jvmebpf.bpf.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The locator finds a library that exports {@code otel_thread_ctx_v1} only once it is loaded,
 * with the symbol's TLS offset as readelf reads it, and a TLS module id of its own.
 */
class ThreadContextLocatorTest {

  private static final String WRITER = """
      #include <jni.h>
      __attribute__((visibility("default"))) __thread char other_tls[40] = "a variable before it";
      __attribute__((visibility("default"))) __thread void *otel_thread_ctx_v1;
      /* The thread pointer minus this thread's otel_thread_ctx_v1, through the compiler's own access. */
      JNIEXPORT jlong JNICALL Java_dev_jvmebpf_bpf_events_ThreadContextLocatorTest_tpOffset(JNIEnv *env, jclass c) {
        unsigned long tp;
        __asm__("mov %%fs:0, %0" : "=r"(tp));
        other_tls[0]++;
        return (long)(tp - (unsigned long)&otel_thread_ctx_v1);
      }
      """;

  /** The test library's function, through JNI. */
  private static native long tpOffset();

  @Test
  void findsTheExportingLibraryOnceItIsLoaded() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    Path dir = Files.createTempDirectory("jeb-ctx-locator-");
    try {
      Path source = Files.writeString(dir.resolve("writer.c"), WRITER);
      Path library = dir.resolve("libwriter.so");
      Path jdk = Path.of(System.getProperty("java.home"));
      BpfTestSupport.toolOutput("cc", "-shared", "-fPIC", "-O2", "-mtls-dialect=gnu2", "-I" + jdk.resolve("include"),
          "-I" + jdk.resolve("include").resolve("linux"), "-o", library.toString(), source.toString());
      ThreadContextLocator locator = ThreadContextLocator.of(libbpf);
      List<ThreadContextLocator.Location> before = locator.findNew();
      assertTrue(before.stream().noneMatch(l -> l.library().equals(library)), "not loaded yet: " + before);
      assertTrue(before.stream().anyMatch(l -> l.library().getFileName().toString().equals("libjeb-threadctx.so")),
          "our writer's library exports it: " + before);

      System.load(library.toString());
      List<ThreadContextLocator.Location> loaded = locator.findNew();
      assertEquals(1, loaded.size(), "the new library only: " + loaded);
      ThreadContextLocator.Location found = loaded.get(0);
      assertEquals(library, found.library());
      // readelf, not our ELF reader: the symbol's value is its offset in the module's TLS block.
      Matcher m = Pattern.compile("([0-9a-f]{16})\\s+\\d+\\s+TLS\\s+GLOBAL\\s+DEFAULT\\s+\\d+\\s+otel_thread_ctx_v1")
          .matcher(BpfTestSupport.toolOutput("readelf", "--dyn-syms", "-W", library.toString()));
      assertTrue(m.find(), "readelf lists the symbol");
      assertEquals(Long.parseLong(m.group(1), 16), found.offset());
      assertTrue(found.module() > 1, "a module of its own, not the executable's: " + found.module());
      assertTrue(locator.findNew().isEmpty(), "a library is examined once");
      // Static TLS (the same distance below the thread pointer in two threads, as the library's
      // own code computes it): the locator found that distance; dynamic: it says 0.
      long here = tpOffset();
      long[] there = new long[1];
      Thread other = new Thread(() -> there[0] = tpOffset());
      other.start();
      other.join();
      assertEquals(here == there[0] ? here : 0, found.threadPointerOffset(), "here " + here + ", there " + there[0]);
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          Files.delete(p);
        }
      }
      Files.delete(dir);
    }
  }
}
