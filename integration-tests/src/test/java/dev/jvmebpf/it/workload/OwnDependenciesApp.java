package dev.jvmebpf.it.workload;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import java.nio.file.Path;
import java.util.Map;
import jnr.ffi.LibraryLoader;

/**
 * An application with its own, older OpenTelemetry API and jnr-ffi on its class path, using
 * both while the agent runs. Prints which jars it got its classes from, and its GC counts.
 */
public final class OwnDependenciesApp {

  /** libc through the application's own jnr-ffi. */
  public interface LibC {
    int getpid();
  }

  static volatile Object sink;

  public static void main(String[] args) throws Exception {
    System.out.println("AGENT " + Agent.awaitStatus());
    // The window begins where the agent's GC counts begin (the MXBeans' counts it published at
    // that instant): a reading of our own after the work below would miss a collection that work
    // set off, which the agent counts (seen on JDK 25 under load: 44 in the window, 45 counted).
    Map<String, Long> before = Agent.gcCountsAtStart();
    OpenTelemetry otel = GlobalOpenTelemetry.get();
    otel.getMeter("app").counterBuilder("app.requests").build().add(1);
    System.out.println("OTEL_API_JAR " + jarOf(OpenTelemetry.class));

    LibC libc = LibraryLoader.create(LibC.class).load("c");
    System.out.println("JNR_JAR " + jarOf(LibraryLoader.class));
    System.out.println("GETPID " + libc.getpid() + " " + ProcessHandle.current().pid());

    for (int i = 0; i < 3_000_000; i++) {
      sink = new byte[512];
    }
    System.gc();
    Map<String, Long> after = GcWorkload.counts();
    after.forEach((name, n) -> System.out.println("BEAN " + name + "\t" + (n - before.get(name))));
  }

  private static String jarOf(Class<?> type) throws Exception {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).getFileName().toString();
  }
}
