package dev.jvmebpf.agent.bootstrap;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.instrument.Instrumentation;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.lang.reflect.Method;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Builds the agent's own class loaders from the jars nested in jvm-ebpf-agent.jar, so that the
 * application's libraries (other OpenTelemetry or ASM versions) and ours never meet:
 *
 * <ol>
 *   <li>{@code inst/layer/*.jar} (bpf-uprobes, the code of our JNI library) becomes a named module,
 *       defined straight into a class loader of ours over the platform class loader
 *       ({@code NativeModule}; where that fails, or with more than one such jar, a private
 *       {@link ModuleLayer} of them). With the Instrumentation, java.base opens {@code java.lang}
 *       to that module only, which grants it native access: JDK 24+ then prints no warning when it
 *       loads our JNI library.</li>
 *   <li>{@code inst/agent-impl.jar} (the agent, otel-bridge, a relocated OpenTelemetry SDK and ASM) is
 *       loaded by a class loader whose parent is that module's.</li>
 * </ol>
 *
 * <p>The nested jars are read where they lie in jvm-ebpf-agent.jar, through {@link ReopenableJar}s;
 * resources that must be files (the native library) are extracted on request into a fresh
 * directory with mode 0700 under java.io.tmpdir. In a JVM the loaders are built once and serve every start
 * of the agent: a detached agent can be attached again without loading a class twice, and once
 * it is detached its jars are closed (they reopen on the next read). The directory goes when the
 * JVM exits, after the agent has flushed; directories left by JVMs that died without cleaning up
 * are removed on start.
 */
final class IsolatedRuntime {

  static final String DIR_PREFIX = "jvm-ebpf-agent-";
  private static final String LAYER = "inst/layer/";
  private static final String IMPL = "inst/agent-impl.jar";
  private static final String BPF_MODULE = "dev.jvmebpf.bpf";
  private static final String AGENT_MAIN = "dev.jvmebpf.agent.AgentMain";
  private static final String NATIVE_MODULE = "dev.jvmebpf.agent.NativeModule";
  private static final String NATIVE_ACCESS = "dev.jvmebpf.bpf.libbpf.NativeAccess";
  /**
   * With this system property true, the native module is defined in a ModuleLayer of its own, as
   * where the JDK lacks the internal API that defining it directly takes (for the tests of that way).
   */
  static final String LAYER_PROPERTY = "jvm.ebpf.agent.module.layer";
  /** The agent argument that asks a running agent to detach (set by the detach command). */
  static final String DETACH_ARGUMENT = "command=detach";
  /**
   * The status and attach-id properties of the agent's AgentStatus, which this package cannot see
   * (it lives in the isolated class loader): set from here when the agent could not even be loaded.
   */
  static final String STATUS_PROPERTY = "jvm.ebpf.agent.status";
  static final String ATTACH_ID_PROPERTY = "jvm.ebpf.agent.attach.id";
  private static final String ATTACH_ID_ARGUMENT = "attach.id=";

  /** A failure whose message alone explains it to the user (no exception class in the line). */
  static final class StartFailure extends IOException {
    StartFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The loaders of this JVM's agent, with the directory they read from; null until first start. */
  /** @param nativeModule how the native module was defined, for the agent's debug log */
  private record Loaders(Path dir, JarClassLoader impl, JarModules modules, String nativeModule) {
    void closeFiles() {
      impl.closeFile();
      modules.closeFiles();
    }
  }

  private static final Object LOCK = new Object();
  private static Loaders loaders;

  private IsolatedRuntime() {}

  /** Runs on the agent's init thread; never throws. */
  static void startAgent(String arguments, Instrumentation instrumentation, String entry) {
    boolean detach = arguments != null && List.of(arguments.split(",")).contains(DETACH_ARGUMENT);
    try {
      Loaders shared = shared(instrumentation);
      Thread.currentThread().setContextClassLoader(shared.impl());
      Class<?> main = shared.impl().loadClass(AGENT_MAIN);
      if (detach) {
        main.getMethod("detach", String.class).invoke(null, arguments);
        shared.closeFiles();
      } else {
        // (String, Object[]): premain's shape, whose reflective call the JVM has already linked.
        main.getMethod("start", String.class, Object[].class)
            .invoke(null, arguments, new Object[] {instrumentation, entry, shared.dir(), shared.nativeModule()});
      }
    } catch (Throwable e) {
      Throwable cause = e instanceof java.lang.reflect.InvocationTargetException && e.getCause() != null
          ? e.getCause() : e;
      String why = cause instanceof StartFailure ? cause.getMessage() : String.valueOf(cause);
      System.err.println("[jvm-ebpf-agent] not started: " + why);
      if (!detach) {
        publishNotStarted(why, arguments);
      }
    }
  }

  /**
   * What the agent's own AgentStatus would publish had it been loaded: status "off: why", then
   * the attach command's id (it believes the status once it sees its id).
   */
  private static void publishNotStarted(String why, String arguments) {
    try {
      System.setProperty(STATUS_PROPERTY, "off: " + why);
      for (String part : arguments == null ? new String[0] : arguments.split(",")) {
        if (part.trim().startsWith(ATTACH_ID_ARGUMENT)) {
          System.setProperty(ATTACH_ID_PROPERTY, part.trim().substring(ATTACH_ID_ARGUMENT.length()));
        }
      }
    } catch (RuntimeException ignored) {
      // Informative only.
    }
  }

  /** This JVM's loaders, built on first use; the JVM's exit stops the agent, then removes the files. */
  private static Loaders shared(Instrumentation instrumentation) throws Exception {
    synchronized (LOCK) {
      if (loaders != null) {
        return loaders;
      }
      Path dir = privateDirectory();
      try {
        Loaders built = load(dir, instrumentation);
        Thread exit = new Thread(new StopAtExit(built), "jvm-ebpf-agent-exit");
        Runtime.getRuntime().addShutdownHook(exit);
        loaders = built;
        return built;
      } catch (Exception | Error e) {
        deleteQuietly(dir);
        throw e;
      }
    }
  }

  /** The shutdown hook's task (a class: no lambda is spun for it). */
  private static final class StopAtExit implements Runnable {
    private final Loaders shared;

    StopAtExit(Loaders shared) {
      this.shared = shared;
    }

    @Override
    public void run() {
      stopAtExit(shared);
    }
  }

  private static void stopAtExit(Loaders shared) {
    try {
      // (String, Object[]), as start: the JVM linked this shape of reflective call already.
      shared.impl().loadClass(AGENT_MAIN).getMethod("stop", String.class, Object[].class).invoke(null, null, null);
    } catch (Throwable e) {
      System.err.println("[jvm-ebpf-agent] stopping at exit failed: " + e);
    } finally {
      deleteQuietly(shared.dir());
    }
  }

  /** The command line ({@code java -jar jvm-ebpf-agent.jar ...}); returns the exit status. */
  static int runCommandLine(String[] args, Instrumentation instrumentation) throws Exception {
    Path dir = privateDirectory();
    try {
      ClassLoader loader = load(dir, instrumentation).impl();
      Thread.currentThread().setContextClassLoader(loader);
      Method cli = loader.loadClass(AGENT_MAIN).getMethod("commandLine", String[].class, Path.class, Path.class);
      return (int) cli.invoke(null, args, dir, agentJar());
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
    } finally {
      deleteQuietly(dir);
    }
  }

  private static Loaders load(Path dir, Instrumentation instrumentation) throws Exception {
    Path agentJar = agentJar();
    Path resources = dir.resolve("resources");
    List<ReopenableJar> layerJars = new ArrayList<>();
    ReopenableJar impl = null;
    for (Nested nested : nestedJars(agentJar)) {
      String file = nested.name().substring(nested.name().lastIndexOf('/') + 1);
      ReopenableJar jar = new ReopenableJar(agentJar, agentJar + "!/" + nested.name(), nested.start(),
          nested.length(), resources.resolve(nested.name().equals(IMPL) ? "agent-impl" : file));
      if (nested.name().equals(IMPL)) {
        impl = jar;
      } else {
        layerJars.add(jar);
      }
    }
    if (impl == null) {
      throw new IOException(agentJar + " lacks " + IMPL + ": not a complete jvm-ebpf-agent.jar");
    }

    JarModules modules = JarModules.of(layerJars);
    if (instrumentation != null && layerJars.size() == 1 && !Boolean.getBoolean(LAYER_PROPERTY)) {
      try {
        return withNamedModule(dir, impl, layerJars.get(0), modules, instrumentation);
      } catch (Exception | LinkageError e) {
        // A JDK without the internal API this takes: the same module in a layer of its own.
      }
    }
    Set<String> roots = new HashSet<>();
    for (ModuleReference module : modules.finder().findAll()) {
      roots.add(module.descriptor().name());
    }
    Configuration configuration = ModuleLayer.boot().configuration()
        .resolve(modules.finder(), ModuleFinder.of(), roots);
    ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(configuration,
        ClassLoader.getPlatformClassLoader());
    grantNativeAccess(layer, instrumentation);
    ClassLoader layerLoader = layer.findLoader(BPF_MODULE);
    JarClassLoader implLoader = new JarClassLoader("jvm-ebpf-agent", impl, layerLoader);
    return new Loaders(dir, implLoader, modules, "a module of a ModuleLayer of its own");
  }

  /**
   * The layer jar's module defined straight into a class loader of ours, without the ModuleLayer
   * API (see NativeModule): java.base exports its internal jdk.internal.module to the agent
   * implementation's loader (its unnamed module holds our classes alone), whose NativeModule then
   * defines the module and opens java.lang to it; initializing NativeAccess in the module grants
   * it native access. Throws where any of this fails: the caller then builds a layer, with new
   * loaders.
   */
  private static Loaders withNamedModule(Path dir, ReopenableJar impl, ReopenableJar jar, JarModules modules,
      Instrumentation instrumentation) throws Exception {
    ModuleDescriptor descriptor = modules.finder().findAll().iterator().next().descriptor();
    JarClassLoader moduleLoader = new JarClassLoader("jvm-ebpf-agent-bpf", jar, ClassLoader.getPlatformClassLoader(),
        descriptor.name());
    JarClassLoader implLoader = new JarClassLoader("jvm-ebpf-agent", impl, moduleLoader);
    instrumentation.redefineModule(Object.class.getModule(), Set.of(),
        Map.of("jdk.internal.module", Set.of(implLoader.getUnnamedModule())), Map.of(), Set.of(), Map.of());
    Class.forName(NATIVE_MODULE, true, implLoader).getMethod("define", String.class, Object[].class)
        .invoke(null, descriptor.name(), new Object[] {moduleLoader, descriptor, jar.path().toUri()});
    Class.forName(NATIVE_ACCESS, true, moduleLoader);
    return new Loaders(dir, implLoader, modules, "a named module defined to its own class loader");
  }

  /**
   * Opens java.lang to our bpf-uprobes module (and nothing else), then lets code in that module
   * call Module's internal implAddEnableNativeAccess on each module of our layer. A JDK
   * without that method (17) needs nothing; any failure only means JDK 24+ will warn.
   */
  private static void grantNativeAccess(ModuleLayer layer, Instrumentation instrumentation) {
    if (instrumentation == null) {
      return;
    }
    try {
      Module bpf = layer.findModule(BPF_MODULE).orElseThrow();
      instrumentation.redefineModule(Object.class.getModule(), Set.of(), Map.of(),
          Map.of("java.lang", Set.of(bpf)), Set.of(), Map.of());
      // Initializing NativeAccess grants access to each module of its layer: no reflective call here.
      Class.forName(NATIVE_ACCESS, true, layer.findLoader(BPF_MODULE));
    } catch (Throwable ignored) {
      // Native access stays as the JVM's defaults have it.
    }
  }

  /** A jar nested in jvm-ebpf-agent.jar: its entry name and where its bytes lie. */
  private record Nested(String name, long start, long length) {}

  /**
   * The jars nested in the agent's jar, read where they lie: the build stores them uncompressed,
   * so each is a byte range of the file (no copy under java.io.tmpdir, 14 MB, at every start).
   */
  private static List<Nested> nestedJars(Path agentJar) throws IOException {
    List<Nested> out = new ArrayList<>();
    try (RandomAccessFile file = new RandomAccessFile(agentJar.toFile(), "r")) {
      ZipSlice outer = ZipSlice.read(file, 0, file.length());
      for (ZipSlice.Entry entry : outer.entries()) {
        String name = entry.name();
        boolean layer = name.startsWith(LAYER) && name.endsWith(".jar") && name.indexOf('/', LAYER.length()) < 0;
        if (!layer && !name.equals(IMPL)) {
          continue;
        }
        if (entry.method() != ZipSlice.STORED) {
          throw new IOException(agentJar + ": " + name + " is compressed; this build stores its nested jars");
        }
        out.add(new Nested(name, outer.dataPosition(file, entry), entry.size()));
      }
    } catch (IOException e) {
      throw new StartFailure("cannot read " + agentJar + ": " + e.getMessage(), e);
    }
    return out;
  }

  private static Path agentJar() throws IOException {
    try {
      return Path.of(AgentBootstrap.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (Exception e) {
      throw new IOException("cannot locate jvm-ebpf-agent.jar: " + e, e);
    }
  }

  /** The lock file in each private directory, held (shared) as long as its JVM lives. */
  static final String LOCK_FILE = ".lock";
  /** A directory without a lock file is left alone this long (its JVM may be creating it). */
  static final long UNLOCKED_GRACE_MILLIS = 60_000;

  /**
   * The locks on this JVM's private directories, held until it exits (the kernel then drops them).
   * Never open another descriptor on one of these files: closing it would drop the lock (POSIX
   * record locks belong to the process and file, not to the descriptor).
   */
  private static final Map<Path, FileChannel> HELD = new java.util.HashMap<>();

  /**
   * A new 0700 directory named after our pid under java.io.tmpdir, holding a lock on its
   * {@link #LOCK_FILE} until this JVM exits; stale ones of JVMs that are gone are removed first.
   * A {@link StartFailure} naming the directory when it cannot be made.
   */
  static Path privateDirectory() throws IOException {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir", "/tmp"));
    removeStale(tmp);
    // Not Files.createTempDirectory: its SecureRandom would keep /dev/random and /dev/urandom
    // open in the application's JVM for good. mkdir is atomic and never follows a link that
    // someone planted under the name; a taken name just means another try.
    for (int attempt = 0; ; attempt++) {
      Path dir = tmp.resolve(DIR_PREFIX + pidForName() + "-"
          + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
      try {
        Path made = Files.createDirectory(dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        holdLock(made);
        return made;
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 100) {
          throw new StartFailure("cannot create a private directory under " + tmp + ": " + e, e);
        }
      } catch (IOException | UnsupportedOperationException e) {
        throw new StartFailure("cannot create a private directory under " + tmp + ": " + reason(e)
            + " (java.io.tmpdir must be a writable directory)", e);
      }
    }
  }

  /**
   * Our pid as /proc names it (what ps shows beside this JVM): informative only, the lock decides
   * whose a directory is. Not ProcessHandle, whose first use sets up the JDK's process reaper.
   */
  private static String pidForName() {
    try {
      return Files.readSymbolicLink(Path.of("/proc/self")).toString();
    } catch (IOException | RuntimeException e) {
      return Long.toString(ProcessHandle.current().pid());
    }
  }

  /** "no such directory", "permission denied", "read-only file system", ...: the OS's reason. */
  private static String reason(Exception e) {
    if (e instanceof NoSuchFileException) {
      return "no such directory";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason().toLowerCase(java.util.Locale.ROOT);
    }
    return String.valueOf(e);
  }

  /**
   * A shared lock on the directory's lock file, for as long as this JVM lives: how another JVM
   * tells a live directory from a stale one, whatever pid namespace either runs in (two
   * containers sharing /tmp see each other's directories, with pids that mean nothing across
   * namespaces). The kernel drops the lock when the process ends, however it ends.
   */
  private static void holdLock(Path dir) throws IOException {
    FileChannel lock = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE_NEW,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      lock.lock(0, Long.MAX_VALUE, true);
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
    synchronized (HELD) {
      HELD.put(dir, lock);
    }
  }

  /** Releases the lock of a directory this JVM removes itself. */
  private static void releaseLock(Path dir) {
    FileChannel lock;
    synchronized (HELD) {
      lock = HELD.remove(dir);
    }
    if (lock != null) {
      try {
        lock.close();
      } catch (IOException ignored) {
        // Closed: released.
      }
    }
  }

  /**
   * Removes the private directories of JVMs that are gone: those whose lock file nobody holds a
   * lock on (any JVM, in any pid namespace). A directory without a lock file is removed only once
   * it is older than {@link #UNLOCKED_GRACE_MILLIS} (a JVM making one right now locks it a moment
   * later; an agent of an earlier version made none). Directories of other users are left alone.
   */
  static void removeStale(Path tmp) {
    String user = System.getProperty("user.name", "");
    // java.io.File's plain list: a glob would compile a regular expression at every start.
    String[] names = tmp.toFile().list();
    for (String name : names == null ? new String[0] : names) {
      if (name.startsWith(DIR_PREFIX)) {
        try {
          Path dir = tmp.resolve(name);
          if (Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)
              && Files.getOwner(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS).getName().equals(user) && stale(dir)) {
            deleteQuietly(dir);
          }
        } catch (IOException | RuntimeException ignored) {
          // Not ours to judge; the next start looks again.
        }
      }
    }
  }

  private static boolean stale(Path dir) throws IOException {
    synchronized (HELD) {
      if (HELD.containsKey(dir)) {
        return false; // ours (and opening its lock file again would drop the lock)
      }
    }
    Path lockFile = dir.resolve(LOCK_FILE);
    if (!Files.exists(lockFile, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return System.currentTimeMillis() - Files.getLastModifiedTime(dir).toMillis() > UNLOCKED_GRACE_MILLIS;
    }
    try (FileChannel lock = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE,
        java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return lock.tryLock(0, Long.MAX_VALUE, false) != null; // released with the channel's close
    }
  }

  static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    releaseLock(dir);
    delete(dir);
  }

  /**
   * Deletes a file, or a directory with what it holds, never following a link; best effort. A
   * plain walk of names (java.io's list): Files.walk's stream and lambdas, and the secure directory
   * stream's close, would spin classes at the JVM's exit.
   */
  private static void delete(Path path) {
    try {
      if (Files.isDirectory(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        String[] children = path.toFile().list();
        for (String child : children == null ? new String[0] : children) {
          delete(path.resolve(child));
        }
      }
      Files.deleteIfExists(path);
    } catch (IOException | RuntimeException ignored) {
      // Best effort: what is left goes with the next start's removeStale.
    }
  }
}
