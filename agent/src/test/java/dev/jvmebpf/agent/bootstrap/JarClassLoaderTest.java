package dev.jvmebpf.agent.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Services of a jar the loader reads in place: found by ServiceLoader, served without a file. */
class JarClassLoaderTest {

  /** A provider the jar below carries (its class file copied from these tests' classes). */
  public static final class Provider implements Runnable {
    @Override
    public void run() {}
  }

  @TempDir
  Path tmp;

  @Test
  void servicesAreFoundAndReadWithoutExtractingAFile() throws Exception {
    String providerEntry = Provider.class.getName().replace('.', '/') + ".class";
    byte[] providerClass;
    try (InputStream in = Provider.class.getClassLoader().getResourceAsStream(providerEntry)) {
      providerClass = in.readAllBytes();
    }
    String services = "# a comment\n" + Provider.class.getName() + "\n";
    Path jarFile = tmp.resolve("services.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jarFile))) {
      out.putNextEntry(new JarEntry("META-INF/services/java.lang.Runnable"));
      out.write(services.getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
      out.putNextEntry(new JarEntry(providerEntry));
      out.write(providerClass);
      out.closeEntry();
    }
    Path resources = tmp.resolve("res");
    JarClassLoader loader = new JarClassLoader("test", new ReopenableJar(jarFile, resources),
        ClassLoader.getPlatformClassLoader());

    List<Runnable> found = new ArrayList<>();
    ServiceLoader.load(Runnable.class, loader).forEach(found::add);
    assertEquals(1, found.size(), found.toString());
    assertEquals(Provider.class.getName(), found.get(0).getClass().getName());
    assertSame(loader, found.get(0).getClass().getClassLoader(), "defined from the jar, not these tests' classes");

    URL url = loader.getResource("META-INF/services/java.lang.Runnable");
    assertEquals(JarClassLoader.InMemory.PROTOCOL, url.getProtocol());
    assertTrue(url.toString().endsWith("services.jar!/META-INF/services/java.lang.Runnable"), url.toString());
    try (InputStream in = url.openStream()) {
      assertEquals(services, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    assertTrue(loader.getResource("META-INF/services/java.lang.Missing") == null);
    assertTrue(!Files.exists(resources), "nothing extracted: " + resources);
  }
}
