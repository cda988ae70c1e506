package dev.jvmebpf.agent.bootstrap;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * A jar the agent's class loaders read from, opened on first use and closable at any time: the
 * next read opens it again. The JDK's own jar readers keep their file open for the class loader's
 * life, which for the agent is the JVM's; closing these when the agent detaches leaves no
 * descriptor behind, while the classes stay loaded for a later attach.
 *
 * <p>Classes are read straight from the jar. Other resources (native libraries, BPF objects,
 * service files) are extracted on first request into a directory and handed out as files, so
 * that no {@code jar:} URL (which the JDK caches, open) ever exists.
 */
final class ReopenableJar implements AutoCloseable {

  private final Path path;
  private final Path resources;
  private JarFile jar;

  ReopenableJar(Path path, Path resources) {
    this.path = path;
    this.resources = resources;
  }

  Path path() {
    return path;
  }

  private JarFile jar() throws IOException {
    if (jar == null) {
      jar = new JarFile(path.toFile());
    }
    return jar;
  }

  synchronized boolean contains(String name) throws IOException {
    JarEntry entry = jar().getJarEntry(name);
    return entry != null && !entry.isDirectory();
  }

  /** The bytes of an entry, empty when there is none. */
  synchronized Optional<byte[]> read(String name) throws IOException {
    JarEntry entry = jar().getJarEntry(name);
    if (entry == null || entry.isDirectory()) {
      return Optional.empty();
    }
    try (InputStream in = jar().getInputStream(entry)) {
      long size = entry.getSize();
      if (size < 0 || size > Integer.MAX_VALUE - 8) {
        return Optional.of(in.readAllBytes());
      }
      // The size is known from the jar's directory: one array, filled once (readAllBytes grows
      // and copies its buffers, for each of the agent's thousand classes).
      byte[] bytes = new byte[(int) size];
      int read = in.readNBytes(bytes, 0, bytes.length);
      if (read != bytes.length || in.read() != -1) {
        throw new IOException(path + ": " + name + " is not " + size + " bytes long");
      }
      return Optional.of(bytes);
    }
  }

  /** An entry as a file of its own (extracted on first request), empty when there is none. */
  synchronized Optional<Path> file(String name) throws IOException {
    Path target = resources.resolve(name).normalize();
    if (!target.startsWith(resources)) {
      return Optional.empty();
    }
    if (Files.isRegularFile(target)) {
      return Optional.of(target);
    }
    JarEntry entry = jar().getJarEntry(name);
    if (entry == null || entry.isDirectory()) {
      return Optional.empty();
    }
    Files.createDirectories(target.getParent());
    // Not Files.createTempFile: its SecureRandom would open /dev/random in the application's JVM.
    Path partial = target.resolveSibling(target.getFileName() + ".part" + System.nanoTime());
    try (InputStream in = jar().getInputStream(entry)) {
      Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(partial);
    }
    return Optional.of(target);
  }

  /** The names of the jar's files (not its directories). */
  synchronized List<String> names() throws IOException {
    List<String> out = new ArrayList<>();
    for (Enumeration<JarEntry> entries = jar().entries(); entries.hasMoreElements(); ) {
      JarEntry entry = entries.nextElement();
      if (!entry.isDirectory()) {
        out.add(entry.getName());
      }
    }
    return out;
  }

  /** The jar's manifest, null when it has none. */
  synchronized Manifest manifest() throws IOException {
    return jar().getManifest();
  }

  @Override
  public synchronized void close() {
    if (jar != null) {
      try {
        jar.close();
      } catch (IOException ignored) {
        // Read-only; nothing to lose.
      }
      jar = null;
    }
  }
}
