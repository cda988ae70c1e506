package dev.jvmebpf.agent.context;

import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.events.ThreadContextWriter;
import java.lang.instrument.Instrumentation;
import java.lang.instrument.UnmodifiableClassException;
import java.lang.management.ClassLoadingMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Consumer;

/**
 * Our OpenTelemetry thread context writer, installed: the storage classes already loaded
 * retransformed through {@link ContextStorageTransformer}, then the ones loaded later, found by
 * {@link #poll} (whenever the JVM has loaded classes since its last look), and
 * {@link ContextPublisher} listening. {@link #close} stops publishing at
 * once and cheaply (no retransformation at exit or detach), and marks every published record
 * invalid: the storage classes rewritten so far
 * keep calling the bridge, which then only sets their thread-local, as they did themselves.
 */
public final class ThreadContextInstrumentation implements AutoCloseable {

  static final String BRIDGE_CLASS = "dev.jvmebpf.agent.bootstrap.ContextBridge";

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

  private final ThreadContextWriter writer;

  private ThreadContextInstrumentation(Instrumentation instrumentation, ContextStorageTransformer transformer,
      Class<?> bridge, ThreadContextWriter writer) {
    this.writer = writer;
    this.instrumentation = instrumentation;
    this.transformer = transformer;
    this.bridge = bridge;
  }

  /**
   * Installs the writer for the spans of {@code events}' families. Throws when the JVM does not
   * let us (no retransformation, no agent jar on the application's class path).
   */
  public static ThreadContextInstrumentation install(Instrumentation instrumentation, ThreadContextWriter writer,
      SpanEvents events) throws Exception {
    if (!instrumentation.isRetransformClassesSupported()) {
      throw new IllegalStateException("this JVM cannot retransform classes");
    }
    Class<?> bridge = applicationBridge();
    listen(bridge, new ContextPublisher(writer, events::foreignWriter));
    ThreadContextInstrumentation installed = new ThreadContextInstrumentation(instrumentation,
        new ContextStorageTransformer(bridge), bridge, writer);
    try {
      installed.poll();
    } catch (RuntimeException e) {
      installed.close();
      throw e;
    }
    return installed;
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

  private static void listen(Class<?> bridge, Consumer<Object> listener) throws ReflectiveOperationException {
    bridge.getMethod("listen", Consumer.class).invoke(null, listener);
  }

  /** The bridge class, as the application's class loader has it (the agent jar's bootstrap package). */
  private static Class<?> applicationBridge() throws ClassNotFoundException {
    return Class.forName(BRIDGE_CLASS, true, ClassLoader.getSystemClassLoader());
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    try {
      listen(bridge, null);
    } catch (ReflectiveOperationException ignored) {
      // it has a public static listen
    }
    writer.close(); // no context left published on any thread
  }
}
