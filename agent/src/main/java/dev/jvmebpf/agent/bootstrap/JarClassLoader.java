package dev.jvmebpf.agent.bootstrap;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.nio.ByteBuffer;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.security.cert.Certificate;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Optional;

/**
 * Loads one of the agent's nested jars through a {@link ReopenableJar}: the agent's implementation
 * (agent-impl.jar, an unnamed module) or bpf-uprobes (a named module, see NativeModule). Parent
 * first like any class loader except for our own names (see {@link #loadClass(String, boolean)}):
 * unlike URLClassLoader it can let go of the jar's file while its classes stay usable, and it
 * never hands out a {@code jar:} URL.
 */
final class JarClassLoader extends ClassLoader {

  static {
    registerAsParallelCapable();
  }

  private static final String OWN_CLASSES = "dev.jvmebpf.";
  private static final String OWN_RESOURCES = "dev/jvmebpf/";
  private static final String SERVICES = "META-INF/services/";

  private final ReopenableJar jar;
  private final ProtectionDomain domain;
  /** The named module whose classes this loader defines, or null: an unnamed module's. */
  private final String module;

  JarClassLoader(String name, ReopenableJar jar, ClassLoader parent) throws MalformedURLException {
    this(name, jar, parent, null);
  }

  /**
   * A loader for the jar's classes; with {@code module}, those of that named module, which must
   * then be defined to this loader (NativeModule) before its first class is loaded.
   */
  JarClassLoader(String name, ReopenableJar jar, ClassLoader parent, String module) throws MalformedURLException {
    super(name, parent);
    this.jar = jar;
    this.module = module;
    this.domain = new ProtectionDomain(new CodeSource(jar.path().toUri().toURL(), (Certificate[]) null), null,
        this, null);
  }

  /**
   * Our own classes ({@code dev.jvmebpf.*}, which no parent holds: the layer's packages and this
   * jar's are disjoint) are looked for here first, then in the parents; every other name parent
   * first. Asking the platform and boot loaders first cost each of our classes a failed look-up
   * in the JDK's module image, about 20 ms of every start.
   */
  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (name.startsWith(OWN_CLASSES)) {
      synchronized (getClassLoadingLock(name)) {
        Class<?> c = findLoadedClass(name);
        if (c == null) {
          c = defineFromJar(name);
        }
        if (c != null) {
          if (resolve) {
            resolveClass(c);
          }
          return c;
        }
      }
    }
    return super.loadClass(name, resolve);
  }

  @Override
  protected Class<?> findClass(String name) throws ClassNotFoundException {
    Class<?> c = defineFromJar(name);
    if (c == null) {
      throw new ClassNotFoundException(name);
    }
    return c;
  }

  /** The class {@code name} defined from the jar's entry for it; null when the jar has none. */
  private Class<?> defineFromJar(String name) throws ClassNotFoundException {
    Optional<ByteBuffer> bytes;
    try {
      bytes = jar.readBuffer(name.replace('.', '/') + ".class");
    } catch (IOException e) {
      throw new ClassNotFoundException(name + ": " + e.getMessage(), e);
    }
    if (bytes.isEmpty()) {
      return null;
    }
    int dot = name.lastIndexOf('.');
    if (dot > 0 && module == null) { // a named module's packages are its own (defined by the JDK)
      String pkg = name.substring(0, dot);
      if (getDefinedPackage(pkg) == null) {
        try {
          definePackage(pkg, null, null, null, null, null, null, null);
        } catch (IllegalArgumentException definedMeanwhile) {
          // Another thread defined it first.
        }
      }
    }
    ByteBuffer b = bytes.get();
    try {
      return defineClass(name, b, domain);
    } finally {
      jar.release(b);
    }
  }

  /**
   * Our own resources ({@code dev/jvmebpf/...}, which no parent holds) straight from the jar's
   * bytes: neither asking every parent loader first (the JDK's module image included) nor
   * extracting a file for a URL. Other names as any class loader finds them.
   */
  @Override
  public InputStream getResourceAsStream(String name) {
    if (name.startsWith(OWN_RESOURCES)) {
      try {
        Optional<byte[]> bytes = jar.read(name);
        if (bytes.isPresent()) {
          return new ByteArrayInputStream(bytes.get());
        }
      } catch (IOException e) {
        return null;
      }
    }
    return super.getResourceAsStream(name);
  }

  @Override
  protected URL findResource(String name) {
    try {
      if (name.startsWith(SERVICES)) {
        Optional<byte[]> bytes = jar.read(name);
        return bytes.isPresent() ? InMemory.url(jar.name() + "!/" + name, bytes.get()) : null;
      }
      Optional<java.nio.file.Path> file = jar.file(name);
      return file.isPresent() ? file.get().toUri().toURL() : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** A resource of our named module (Class.getResource of its classes comes here), else none. */
  @Override
  protected URL findResource(String moduleName, String name) {
    return moduleName == null || moduleName.equals(module) ? findResource(name) : null;
  }

  @Override
  protected Class<?> findClass(String moduleName, String name) {
    if (moduleName != null && !moduleName.equals(module)) {
      return null;
    }
    try {
      return findClass(name);
    } catch (ClassNotFoundException e) {
      return null;
    }
  }

  @Override
  protected Enumeration<URL> findResources(String name) {
    URL url = findResource(name);
    return url == null ? Collections.emptyEnumeration() : Collections.enumeration(java.util.List.of(url));
  }

  /**
   * A resource's bytes behind a URL of their own, for readers that need a URL but only read it:
   * ServiceLoader, for the services files (one file each written at every start cost 13 ms).
   */
  static final class InMemory extends URLStreamHandler {
    static final String PROTOCOL = "jvm-ebpf-agent";
    private final byte[] bytes;

    private InMemory(byte[] bytes) {
      this.bytes = bytes;
    }

    @SuppressWarnings("deprecation") // URL.of(URI, handler) is JDK 20+
    static URL url(String path, byte[] bytes) throws MalformedURLException {
      return new URL(PROTOCOL, "", -1, "/" + path, new InMemory(bytes));
    }

    @Override
    protected URLConnection openConnection(URL url) {
      return new URLConnection(url) {
        @Override
        public void connect() {
          connected = true;
        }

        @Override
        public InputStream getInputStream() {
          return new ByteArrayInputStream(bytes);
        }

        @Override
        public long getContentLengthLong() {
          return bytes.length;
        }
      };
    }
  }

  /** Lets go of the jar's file; the next class or resource read opens it again. */
  void closeFile() {
    jar.close();
  }
}
