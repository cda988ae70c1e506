package dev.jvmebpf.agent.bootstrap;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReader;
import java.lang.module.ModuleReference;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The agent's layer modules (automatic modules such as ASM's) read through {@link
 * ReopenableJar}s instead of the JDK's jar readers, which hold their file open for as long as
 * the layer lives. Descriptors (names, packages) are the ones the JDK derives from the jars.
 */
final class JarModules {

  private final ModuleFinder finder;
  private final List<ReopenableJar> jars;

  private JarModules(ModuleFinder finder, List<ReopenableJar> jars) {
    this.finder = finder;
    this.jars = jars;
  }

  /** The modules of the jars in {@code jarDir}; resources are extracted under {@code resourceDir}. */
  static JarModules of(Path jarDir, Path resourceDir) throws IOException {
    Map<String, ModuleReference> modules = new HashMap<>();
    List<ReopenableJar> jars = new java.util.ArrayList<>();
    for (ModuleReference jarModule : ModuleFinder.of(jarDir).findAll()) {
      Path jarPath = Path.of(jarModule.location().orElseThrow()).toAbsolutePath().normalize();
      ReopenableJar jar = new ReopenableJar(jarPath,
          resourceDir.resolve(jarPath.getFileName().toString()).toAbsolutePath().normalize());
      jars.add(jar);
      modules.put(jarModule.descriptor().name(), new Reference(jarModule.descriptor(), jar));
    }
    ModuleFinder finder = new ModuleFinder() {
      @Override
      public Optional<ModuleReference> find(String name) {
        return Optional.ofNullable(modules.get(name));
      }

      @Override
      public Set<ModuleReference> findAll() {
        return Set.copyOf(modules.values());
      }
    };
    return new JarModules(finder, List.copyOf(jars));
  }

  ModuleFinder finder() {
    return finder;
  }

  /** Closes every jar; a later read opens its jar again. */
  void closeFiles() {
    jars.forEach(ReopenableJar::close);
  }

  private static final class Reference extends ModuleReference {
    private final ReopenableJar jar;

    Reference(ModuleDescriptor descriptor, ReopenableJar jar) {
      super(descriptor, jar.path().toUri());
      this.jar = jar;
    }

    @Override
    public ModuleReader open() {
      return new Reader(jar);
    }
  }

  private static final class Reader implements ModuleReader {
    private final ReopenableJar jar;

    Reader(ReopenableJar jar) {
      this.jar = jar;
    }

    @Override
    public Optional<URI> find(String name) throws IOException {
      return jar.file(name).map(Path::toUri);
    }

    @Override
    public Optional<InputStream> open(String name) throws IOException {
      Optional<byte[]> bytes = jar.read(name);
      return bytes.map(java.io.ByteArrayInputStream::new);
    }

    @Override
    public Optional<ByteBuffer> read(String name) throws IOException {
      return jar.read(name).map(ByteBuffer::wrap);
    }

    @Override
    public Stream<String> list() throws IOException {
      return jar.names().stream();
    }

    @Override
    public void close() {
      // The jar is closed when the agent detaches (closeFiles), not per reader.
    }
  }
}
