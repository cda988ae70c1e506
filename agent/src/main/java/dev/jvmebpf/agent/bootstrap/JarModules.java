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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The agent's layer modules, read through {@link ReopenableJar}s instead of the JDK's jar readers,
 * which hold their file open for as long as the layer lives.
 *
 * <p>Each jar's descriptor is spelled out from its manifest: an open module named by its
 * {@code Automatic-Module-Name}, requiring java.base and the modules its {@value #REQUIRES}
 * attribute lists, exporting every package it has. Letting {@code ModuleFinder} derive an automatic
 * module instead (a scan of the jar through streams and lambdas) and resolving a module that reads
 * every module of the boot layer cost about 40 ms of every start, plus what the JIT compiled of it.
 */
final class JarModules {

  /** The manifest attribute listing the modules a layer jar's code needs besides java.base. */
  static final String REQUIRES = "Jvm-Ebpf-Requires";

  private final ModuleFinder finder;
  private final List<ReopenableJar> jars;

  private JarModules(ModuleFinder finder, List<ReopenableJar> jars) {
    this.finder = finder;
    this.jars = jars;
  }

  /** The modules of {@code jars}, one each. */
  static JarModules of(List<ReopenableJar> jars) throws IOException {
    Map<String, ModuleReference> modules = new HashMap<>();
    for (ReopenableJar jar : jars) {
      ModuleDescriptor descriptor = descriptor(jar.name(), jar.manifest(), jar.names());
      modules.put(descriptor.name(), new Reference(descriptor, jar));
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

  /** The descriptor of the layer jar {@code jar} names, from its manifest and its entries' names. */
  static ModuleDescriptor descriptor(String jar, Manifest manifest, List<String> entries) throws IOException {
    Attributes main = manifest == null ? new Attributes() : manifest.getMainAttributes();
    String name = main.getValue("Automatic-Module-Name");
    if (name == null) {
      throw new IOException(jar + " names no module (no Automatic-Module-Name in its manifest)");
    }
    ModuleDescriptor.Builder module = ModuleDescriptor.newOpenModule(name);
    String requires = main.getValue(REQUIRES);
    // Names separated by commas and white space (split by hand: a pattern costs the start its compilation).
    int at = 0;
    while (requires != null && at < requires.length()) {
      int end = at;
      while (end < requires.length() && requires.charAt(end) != ',' && !Character.isWhitespace(requires.charAt(end))) {
        end++;
      }
      if (end > at) {
        module.requires(requires.substring(at, end));
      }
      at = end + 1;
    }
    for (String pkg : packages(entries)) {
      module.exports(pkg);
    }
    return module.build();
  }

  /**
   * The packages of a jar's entries as the JDK counts them for an automatic module: the directory
   * of each class file outside META-INF. Resources elsewhere (BPF objects, the native library)
   * belong to no package, so any loader may read them, as before.
   */
  static Set<String> packages(List<String> entries) {
    Set<String> packages = new TreeSet<>();
    String lastDirectory = null; // a jar lists a directory's files together: each is looked at once
    for (String entry : entries) {
      int slash = entry.lastIndexOf('/');
      if (slash <= 0 || !entry.endsWith(".class") || entry.startsWith("META-INF/")
          || (lastDirectory != null && slash == lastDirectory.length() && entry.startsWith(lastDirectory))) {
        continue;
      }
      lastDirectory = entry.substring(0, slash);
      String pkg = lastDirectory.replace('/', '.');
      if (isPackageName(pkg)) {
        packages.add(pkg);
      }
    }
    return packages;
  }

  private static boolean isPackageName(String name) {
    for (String part : name.split("\\.", -1)) {
      if (part.isEmpty() || !Character.isJavaIdentifierStart(part.charAt(0))) {
        return false;
      }
      for (int i = 1; i < part.length(); i++) {
        if (!Character.isJavaIdentifierPart(part.charAt(i))) {
          return false;
        }
      }
    }
    return true;
  }

  ModuleFinder finder() {
    return finder;
  }

  /** Closes every jar; a later read opens its jar again. */
  void closeFiles() {
    for (ReopenableJar jar : jars) {
      jar.close();
    }
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
      Optional<Path> file = jar.file(name); // no method reference: the bootstrap's are spun at run time
      return file.isPresent() ? Optional.of(file.get().toUri()) : Optional.empty();
    }

    @Override
    public Optional<InputStream> open(String name) throws IOException {
      Optional<byte[]> bytes = jar.read(name);
      return bytes.isPresent() ? Optional.of(new java.io.ByteArrayInputStream(bytes.get())) : Optional.empty();
    }

    @Override
    public Optional<ByteBuffer> read(String name) throws IOException {
      return jar.readBuffer(name);
    }

    @Override
    public void release(ByteBuffer buffer) {
      jar.release(buffer);
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
