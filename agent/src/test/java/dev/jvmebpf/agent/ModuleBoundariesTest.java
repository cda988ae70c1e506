package dev.jvmebpf.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The arrows between modules that ARCHITECTURE.md draws, read from the sources themselves:
 * bpf-uprobes knows nothing of OpenTelemetry, Byte Buddy or the modules above it; otel-bridge
 * nothing of jnr-ffi, libbpf's binding, Byte Buddy or the agent. Main and test code alike.
 */
class ModuleBoundariesTest {

  private static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?([\\w.]+)", Pattern.MULTILINE);

  @ParameterizedTest(name = "{0} never imports {1}")
  @CsvSource({
      "bpf-uprobes, io.opentelemetry.", "bpf-uprobes, dev.jvmebpf.otel.", "bpf-uprobes, dev.jvmebpf.agent.",
      "bpf-uprobes, net.bytebuddy.",
      "otel-bridge, jnr.", "otel-bridge, com.kenai.jffi.", "otel-bridge, dev.jvmebpf.bpf.libbpf.",
      "otel-bridge, dev.jvmebpf.agent.", "otel-bridge, net.bytebuddy."})
  void importsStayInsideTheModulesBoundary(String module, String forbidden) throws IOException {
    Path root = Path.of("..", module, "src");
    List<Path> sources;
    try (Stream<Path> files = Files.walk(root)) {
      sources = files.filter(p -> p.toString().endsWith(".java")).toList();
    }
    assertTrue(sources.size() > 10, "found the module's sources under " + root.toAbsolutePath() + ": " + sources.size());
    List<String> crossing = sources.stream().flatMap(p -> imports(p).filter(i -> i.startsWith(forbidden))
        .map(i -> root.relativize(p) + ": " + i)).toList();
    assertEquals(List.of(), crossing, module + " must not depend on " + forbidden);
  }

  /** A JDK class named in source, imported or written out: its package is group 1. */
  private static final Pattern JDK_CLASS = Pattern.compile("\\b((?:java|javax|jdk|sun|com\\.sun)(?:\\.[a-z]\\w*)+)\\.[A-Z]");

  /**
   * bpf-uprobes' code runs as a named module of the agent's layer, whose descriptor requires only
   * java.base and what the jar's Jvm-Ebpf-Requires attribute lists (bpf-uprobes/pom.xml): a class
   * of any other module would fail to link at run time.
   */
  @Test
  void bpfUprobesUsesOnlyTheModulesItsManifestDeclares() throws IOException {
    Matcher declared = Pattern.compile("<Jvm-Ebpf-Requires>([^<]*)</Jvm-Ebpf-Requires>")
        .matcher(Files.readString(Path.of("..", "bpf-uprobes", "pom.xml")));
    assertTrue(declared.find(), "bpf-uprobes/pom.xml declares Jvm-Ebpf-Requires");
    java.util.Set<String> allowed = new java.util.HashSet<>(List.of(declared.group(1).trim().split("[,\\s]+")));
    allowed.add("java.base");
    Path root = Path.of("..", "bpf-uprobes", "src", "main", "java");
    List<Path> sources;
    try (Stream<Path> files = Files.walk(root)) {
      sources = files.filter(p -> p.toString().endsWith(".java")).toList();
    }
    java.util.Set<String> used = new java.util.TreeSet<>();
    List<String> outside = new java.util.ArrayList<>();
    for (Path source : sources) {
      Matcher m = JDK_CLASS.matcher(Files.readString(source));
      while (m.find()) {
        String pkg = m.group(1);
        String module = ModuleLayer.boot().modules().stream().filter(md -> md.getPackages().contains(pkg))
            .map(Module::getName).findFirst().orElse("(no module: " + pkg + ")");
        used.add(module);
        if (!allowed.contains(module)) {
          outside.add(root.relativize(source) + ": " + pkg + " of " + module);
        }
      }
    }
    assertTrue(used.contains("java.management") && used.contains("java.base"), "the scan sees JDK classes: " + used);
    assertEquals(List.of(), outside, "modules bpf-uprobes uses but does not declare in Jvm-Ebpf-Requires");
  }

  /** The rule's own check: the pattern sees imports, static ones too (a scan that sees nothing passes anything). */
  @Test
  void theScanSeesImports() {
    assertTrue(imports(Path.of("src/test/java/dev/jvmebpf/agent/ModuleBoundariesTest.java"))
        .anyMatch("org.junit.jupiter.api.Assertions.assertEquals"::equals));
  }

  private static Stream<String> imports(Path source) {
    try {
      Matcher m = IMPORT.matcher(Files.readString(source));
      Stream.Builder<String> out = Stream.builder();
      while (m.find()) {
        out.add(m.group(1));
      }
      return out.build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
