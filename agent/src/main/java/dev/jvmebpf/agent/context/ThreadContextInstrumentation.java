package dev.jvmebpf.agent.context;

import dev.jvmebpf.agent.JavaBaseClasses;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.events.ThreadContextWriter;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import java.lang.instrument.Instrumentation;
import java.lang.instrument.UnmodifiableClassException;
import java.lang.management.ClassLoadingMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Consumer;

/**
 * Our OpenTelemetry thread context writer, installed: {@link ContextBridge} defined in java.base
 * (as {@code java.lang.JebContextBridge}, so that every class loader's storage can call it),
 * the storage classes already loaded retransformed through {@link ContextStorageTransformer},
 * then the ones loaded later, found by {@link #poll} (whenever the JVM has loaded classes since
 * its last look), and {@link ContextPublisher} listening. With the first storage rewritten, on a
 * JDK with virtual threads, {@code java.lang.VirtualThread} too ({@link VirtualThreadTransformer}),
 * so that virtual threads publish as well. {@link #close} stops publishing at once and cheaply (no
 * retransformation at exit or detach), and marks every published record invalid: the classes
 * rewritten so far keep calling the bridge, which then only sets their thread-local, as they did
 * themselves, and leaves mounts alone.
 */
public final class ThreadContextInstrumentation implements AutoCloseable {

  /** The bridge's name in java.base. */
  static final String BRIDGE = ContextBridge.JAVA_BASE_NAME;

  private final Instrumentation instrumentation;
  private final ContextStorageTransformer transformer;
  private final Class<?> bridge;
  private final ClassLoadingMXBean classLoading = ManagementFactory.getClassLoadingMXBean();
  private final Set<Class<?>> rewritten = Collections.newSetFromMap(new WeakHashMap<>()); // guarded by this
  private long loadedClasses = -1; // guarded by this
  private final long installedNanos = System.nanoTime();
  private long polledNanos; // guarded by this

  /** Looks at every call for this long after install (applications set up tracing early)... */
  static final long EAGER_NANOS = 60_000_000_000L;
  /** ...then at most this often: each look walks every loaded class. */
  static final long LATER_NANOS = 30_000_000_000L;
  private boolean closed; // guarded by this
  /** Whether the OpenTelemetry Java agent's storage is loaded; guarded by this. */
  private boolean javaAgentStorageLoaded;
  /** Whether VirtualThread was looked at (rewritten or not); guarded by this. */
  private boolean virtualThreadsTried;

  private final ThreadContextWriter writer;
  private final ThreadLocal<ByteBuffer> records;
  private final Consumer<String> debug;

  private ThreadContextInstrumentation(Instrumentation instrumentation, ContextStorageTransformer transformer,
      Class<?> bridge, ThreadContextWriter writer, ThreadLocal<ByteBuffer> records, Consumer<String> debug) {
    this.debug = debug;
    this.writer = writer;
    this.records = records;
    this.instrumentation = instrumentation;
    this.transformer = transformer;
    this.bridge = bridge;
  }

  /**
   * Installs a writer into {@code libbpf}'s thread context library for the spans of
   * {@code events}' families. Throws when the JVM does not let us (no retransformation).
   */
  public static ThreadContextInstrumentation install(Instrumentation instrumentation, Libbpf libbpf,
      SpanEvents events, Consumer<String> debug) throws Exception {
    if (!instrumentation.isRetransformClassesSupported()) {
      throw new IllegalStateException("this JVM cannot retransform classes");
    }
    Class<?> bridge = JavaBaseClasses.define(instrumentation, ContextBridge.class, BRIDGE, Object.class);
    @SuppressWarnings("unchecked")
    ThreadLocal<ByteBuffer> records = (ThreadLocal<ByteBuffer>) bridge.getMethod("carrierLocal").invoke(null);
    ThreadContextWriter writer = new ThreadContextWriter(libbpf, records);
    listen(bridge, new ContextPublisher(writer, events::foreignWriter));
    ThreadContextInstrumentation installed = new ThreadContextInstrumentation(instrumentation,
        new ContextStorageTransformer(bridge), bridge, writer, records, debug);
    try {
      installed.poll();
    } catch (RuntimeException e) {
      installed.close();
      throw e;
    }
    return installed;
  }

  /** The writer the rewritten storages publish through (what the spans timed in Java read). */
  public ThreadContextWriter writer() {
    return writer;
  }

  /**
   * Rewrites the storage classes loaded since the last call; does nothing (and costs next to
   * nothing) when the JVM loaded no class since. The transformer is registered only for the
   * retransformation itself: a transformer left registered would make every later class load of
   * the application pay for it (HotSpot hands each class file to Java, shared archive classes
   * included). Called at install and then about once a second; acts on every call for the first
   * minute, then at most every 30 s.
   */
  public synchronized void poll() {
    long now = System.nanoTime();
    if (closed || (now - installedNanos > EAGER_NANOS && now - polledNanos < LATER_NANOS)) {
      return;
    }
    long loaded = classLoading.getTotalLoadedClassCount();
    if (loaded == loadedClasses) {
      return;
    }
    loadedClasses = loaded;
    polledNanos = now;
    if (!javaAgentStorageLoaded) {
      javaAgentStorageLoaded = loadJavaAgentStorage();
    }
    List<Class<?>> storages = new ArrayList<>();
    for (Class<?> c : instrumentation.getAllLoadedClasses()) {
      if (c.getName().contains(ContextStorageTransformer.STORAGE_SIMPLE_NAME) // no copy of every name
          && !rewritten.contains(c) && ContextStorageTransformer.isStorage(c.getName().replace('.', '/'))
          && instrumentation.isModifiableClass(c) && transformer.seesBridge(c.getClassLoader())) {
        // Its scope class too, loaded now if it was not yet: a storage whose attach publishes
        // but whose scope's close does not would leave a stale context on the thread.
        Class<?>[] nested;
        try {
          nested = c.getDeclaredClasses();
        } catch (RuntimeException | LinkageError e) {
          continue; // without its scope class, the storage stays as it is
        }
        storages.add(c);
        for (Class<?> n : nested) {
          if (!rewritten.contains(n) && !storages.contains(n) && instrumentation.isModifiableClass(n)) {
            storages.add(n);
          }
        }
      }
    }
    if (storages.isEmpty()) {
      return;
    }
    if (!virtualThreadsTried) {
      virtualThreadsTried = true;
      debug.accept("thread context writer: virtual threads " + publishVirtualThreads());
    }
    instrumentation.addTransformer(transformer, true);
    try {
      instrumentation.retransformClasses(storages.toArray(new Class<?>[0]));
      rewritten.addAll(storages);
    } catch (UnmodifiableClassException | RuntimeException | LinkageError e) {
      rewritten.addAll(storages); // not again
    } finally {
      instrumentation.removeTransformer(transformer);
    }
  }

  /**
   * Loads (without initializing) the OpenTelemetry Java agent's relocated storage, when that agent
   * has put it on the bootstrap class path, so that this look rewrites it before its first use:
   * the Java agent loads it only at its first span, and the requests before our next look would
   * publish nothing. False without the Java agent (yet).
   */
  private static boolean loadJavaAgentStorage() {
    try {
      Class.forName(String.join(".", "io", "opentelemetry", "javaagent", "shaded")
          + "." + ContextStorageTransformer.STORAGE.replace('/', '.'), false, null);
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /**
   * Rewrites VirtualThread's mount and unmount to call the bridge, then lets virtual threads
   * publish: the application uses OpenTelemetry, and its virtual threads may too. Returns what
   * became of them, for the debug line; never throws (they then publish nothing, as before).
   */
  private String publishVirtualThreads() {
    Class<?> virtualThread;
    try {
      virtualThread = Class.forName(VirtualThreadTransformer.VIRTUAL_THREAD.replace('/', '.'), false, null);
    } catch (ClassNotFoundException | LinkageError e) {
      return "none on this JDK";
    }
    if (!instrumentation.isModifiableClass(virtualThread)) {
      return "not published (VirtualThread cannot be rewritten)";
    }
    VirtualThreadTransformer hooks = new VirtualThreadTransformer(BRIDGE);
    instrumentation.addTransformer(hooks, true);
    try {
      instrumentation.retransformClasses(virtualThread);
    } catch (UnmodifiableClassException | RuntimeException | LinkageError e) {
      return "not published (" + e + ")";
    } finally {
      instrumentation.removeTransformer(hooks);
    }
    if (!hooks.rewritten) {
      return "not published (VirtualThread's mount and unmount are not as expected)";
    }
    ThreadLocal<ByteBuffer> shadows = new ThreadLocal<>();
    try {
      writer.publishVirtualThreads(shadows);
      Runnable binder = writer::bindCurrentThread;
      bridge.getMethod("virtualThreads", ThreadLocal.class, ThreadLocal.class, Runnable.class)
          .invoke(null, records, shadows, binder);
      return "published";
    } catch (ReflectiveOperationException | RuntimeException e) {
      writer.publishVirtualThreads(null);
      return "not published (" + e + ")";
    }
  }

  private static void listen(Class<?> bridge, Consumer<Object> listener) throws ReflectiveOperationException {
    bridge.getMethod("listen", Consumer.class).invoke(null, listener);
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    try {
      listen(bridge, null);
      bridge.getMethod("virtualThreads", ThreadLocal.class, ThreadLocal.class, Runnable.class)
          .invoke(null, null, null, null);
    } catch (ReflectiveOperationException ignored) {
      // public static methods of the bridge
    }
    writer.close(); // no context left published on any thread
  }
}
