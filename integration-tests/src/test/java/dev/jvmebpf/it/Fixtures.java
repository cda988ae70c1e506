package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Where things are: the agent jar, the JDKs, the workloads' classes; the CI rules for absences. */
final class Fixtures {

  private Fixtures() {}

  static boolean inCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  static Path agentJar() {
    Path jar = Path.of(System.getProperty("jeb.agent.jar", "../agent/target/jvm-ebpf-agent.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      fail("the agent jar " + jar + " is missing: build it with 'mvn package' (make test does)");
    }
    return jar.normalize();
  }

  static Path testClasses() {
    try {
      return Path.of(Fixtures.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A class path of the application's own libraries (jeb.app.libs: older OpenTelemetry, jnr-ffi
   * and their dependencies, copied by the build) whose file names {@code include} accepts.
   */
  static String appLibraries(Predicate<String> include) throws IOException {
    try (Stream<Path> jars = Files.list(Path.of(System.getProperty("jeb.app.libs")))) {
      return jars.filter(p -> include.test(p.getFileName().toString())).map(Path::toString).sorted()
          .collect(Collectors.joining(File.pathSeparator));
    }
  }

  /** The OpenTelemetry Java agent's jar (jeb.otel.javaagent, copied from Maven Central by the build). */
  static Path otelJavaAgent() {
    Path jar = Path.of(System.getProperty("jeb.otel.javaagent", "target/otel-javaagent/opentelemetry-javaagent.jar"))
        .toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      fail("the OpenTelemetry Java agent " + jar + " is missing: the build copies it (mvn verify does)");
    }
    return jar.normalize();
  }

  static Path jdk17() {
    return jdk("jeb.jdk17.home");
  }

  static Path jdk25() {
    return jdk("jeb.jdk25.home");
  }

  /** "17" or "25": the JDKs the agent supports, for parameterized tests. */
  static Path jdk(int feature) {
    return switch (feature) {
      case 17 -> jdk17();
      case 25 -> jdk25();
      default -> throw new IllegalArgumentException("no JDK " + feature + " configured");
    };
  }

  private static Path jdk(String property) {
    Path home = Path.of(System.getProperty(property, ""));
    boolean present = Files.isExecutable(home.resolve("bin/java"));
    if (!present && inCi()) {
      fail(property + "=" + home + " has no bin/java; CI needs both JDKs");
    }
    assumeTrue(present, "skipped, no JDK at " + home + " (" + property + ")");
    return home;
  }
}
