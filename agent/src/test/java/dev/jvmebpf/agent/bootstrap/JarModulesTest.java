package dev.jvmebpf.agent.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The layer's descriptors, spelled out from each jar's manifest and entries. */
class JarModulesTest {

  @TempDir
  Path tmp;

  private static Manifest manifest(String name, String requires) {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    if (name != null) {
      manifest.getMainAttributes().putValue("Automatic-Module-Name", name);
    }
    if (requires != null) {
      manifest.getMainAttributes().putValue(JarModules.REQUIRES, requires);
    }
    return manifest;
  }

  @Test
  void anOpenModuleExportingEachPackageAndRequiringWhatTheManifestLists() throws IOException {
    ModuleDescriptor d = JarModules.descriptor("x.jar", manifest("dev.example.m", " java.management, java.logging "),
        List.of("META-INF/MANIFEST.MF", "META-INF/maven/x/pom.xml", "dev/example/A.class", "dev/example/a/B.class",
            "dev/example/programs/gc.bpf.o", "dev/example/native/linux-x86_64/lib.so", "top.txt"));
    assertEquals("dev.example.m", d.name());
    assertTrue(d.isOpen());
    assertEquals(Set.of("dev.example", "dev.example.a"), d.packages());
    Set<String> exported = new TreeSet<>();
    d.exports().forEach(e -> {
      assertTrue(!e.isQualified(), e + " is exported to everyone");
      exported.add(e.source());
    });
    assertEquals(new TreeSet<>(d.packages()), exported);
    Set<String> required = new TreeSet<>();
    d.requires().forEach(r -> required.add(r.name()));
    assertEquals(Set.of("java.base", "java.logging", "java.management"), required);
  }

  /** The same packages as the JDK derives for the jar as an automatic module (the old way). */
  @Test
  void packagesAreTheOnesTheJdkDerivesForAnAutomaticModule() throws IOException {
    Path jar = tmp.resolve("m.jar");
    List<String> names = List.of("dev/example/A.class", "dev/example/a/B.class", "dev/example/programs/gc.bpf.o",
        "dev/example/native/linux-x86_64/lib.so", "dev/example/1bad/x.txt", "dev/example/1bad/C.class", "top.txt");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest("dev.example.m", null))) {
      for (String name : names) {
        out.putNextEntry(new JarEntry(name));
        out.write(1);
        out.closeEntry();
      }
    }
    ModuleDescriptor automatic = ModuleFinder.of(jar).find("dev.example.m").orElseThrow().descriptor();
    assertTrue(automatic.isAutomatic());
    try (ReopenableJar reopenable = new ReopenableJar(jar, tmp.resolve("res"))) {
      assertEquals(automatic.packages(), JarModules.descriptor(jar.toString(), reopenable.manifest(), reopenable.names()).packages());
    }
  }

  @Test
  void aJarWithoutAModuleNameIsRefusedByName() {
    IOException e = assertThrows(IOException.class, () -> JarModules.descriptor("/x/y.jar", manifest(null, null),
        List.of("a/B.class")));
    assertTrue(e.getMessage().contains("/x/y.jar") && e.getMessage().contains("Automatic-Module-Name"), e.getMessage());
  }
}
