package dev.jvmebpf.agent.context;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * What the code our thread context writer rewrites calls: OpenTelemetry context storages
 * ({@link ContextStorageTransformer}: instead of their {@code ThreadLocal.set}) and, on JDK 21+,
 * {@code java.lang.VirtualThread}'s mount and unmount ({@link VirtualThreadTransformer}). Never
 * loaded under this name: {@link ThreadContextInstrumentation} defines a copy of it in
 * {@code java.lang} as {@code JebContextBridge} (bootstrap class loader), which every class loader
 * sees: the application's, the OpenTelemetry Java agent's (whose relocated storage is itself a
 * bootstrap class) and the JDK's own. So it uses JDK types only, has no nested class and no lambda,
 * and the agent reaches it through reflection. (Appending the agent jar to the bootstrap search
 * path instead would turn class data sharing off for all other classes, and HotSpot warns about it.)
 *
 * <p>Virtual threads. The thread context record a reader (the kernel) finds is the one bound to the
 * OS thread, which for a virtual thread is its carrier's, mounted in turn by other virtual
 * threads. Each OS thread's record is therefore held in a carrier thread-local ({@link #records}),
 * each virtual thread's own context in a record image of its own ({@link #shadows}, heap memory),
 * and on every mount the carrier's record is made to show the mounted virtual thread's context
 * (or none), on every unmount none: a reader never sees the context of another virtual thread
 * that ran earlier on the same carrier. The hooks run inside the JDK's mount and unmount, so they
 * take no lock, never throw and allocate nothing but, once per virtual thread that has a
 * thread-local map, the entry {@code shadows.get()} adds to it; the only call out of the JDK's types,
 * {@link #binder} (a carrier's first record, bound by the agent through native code), is made
 * before the mount begins, on the carrier, once per carrier.
 */
public final class ContextBridge {

  /** Its name inside java.base (the build writes its copy renamed so: JavaBaseTemplates). */
  public static final String JAVA_BASE_NAME = "java/lang/JebContextBridge";

  /** The record's layout (ThreadContextWriter's, OTEP 4947): trace id, span id, valid, flags. */
  static final int TRACE_ID = 0;
  static final int SPAN_ID = 16;
  static final int VALID = 24;
  static final int TRACE_FLAGS = 25;

  private static volatile Consumer<Object> listener;

  /** Each OS thread's record (a carrier thread-local where the JDK has one); null: hooks off. */
  private static volatile ThreadLocal<ByteBuffer> records;
  /** Each virtual thread's own context, a record image (valid set when it holds one); null: hooks off. */
  private static volatile ThreadLocal<ByteBuffer> shadows;
  /** Binds a record to the calling platform thread (the agent's writer); null: hooks off. */
  private static volatile Runnable binder;

  /** The thread's thread-local map, read without creating one (JDK field); null where unknown. */
  private static final MethodHandle THREAD_LOCALS = threadLocalsGetter();

  private ContextBridge() {}

  /** What the storage did ({@code storage.set(context)}), then tells the listener, which never throws. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  public static void set(ThreadLocal storage, Object context) {
    storage.set(context);
    Consumer<Object> l = listener;
    if (l != null) {
      try {
        l.accept(context);
      } catch (Throwable ignored) {
        // Never the application's problem.
      }
    }
  }

  /** The agent's listener of context changes on the calling thread; null: none. */
  public static void listen(Consumer<Object> newListener) {
    listener = newListener;
  }

  /**
   * A thread-local whose value belongs to the OS thread: the carrier's when read by a virtual
   * thread (the JDK's {@code jdk.internal.misc.CarrierThreadLocal}, JDK 19+); a plain thread-local
   * where the JDK has none (and no virtual threads).
   */
  @SuppressWarnings("unchecked")
  public static ThreadLocal<ByteBuffer> carrierLocal() {
    try {
      Class<?> type = Class.forName("jdk.internal.misc.CarrierThreadLocal", true, null);
      MethodHandle create = MethodHandles.lookup().findConstructor(type, MethodType.methodType(void.class));
      return (ThreadLocal<ByteBuffer>) (Object) create.invoke();
    } catch (Throwable e) {
      return new ThreadLocal<>();
    }
  }

  /**
   * Turns the mount hooks on with the writer's thread-locals and its binder ({@code records} from
   * {@link #carrierLocal}), or off (all null). Off first at close: a hook that read them just
   * before still completes.
   */
  public static void virtualThreads(ThreadLocal<ByteBuffer> newRecords, ThreadLocal<ByteBuffer> newShadows,
      Runnable newBinder) {
    if (newRecords == null || newShadows == null || newBinder == null) {
      records = null;
      shadows = null;
      binder = null;
    } else {
      binder = newBinder;
      shadows = newShadows;
      records = newRecords;
    }
  }

  /** At the start of VirtualThread.mount, on the carrier (still the current thread): its record, once. */
  public static void beforeMount() {
    ThreadLocal<ByteBuffer> r = records;
    Runnable b = binder;
    if (r == null || b == null || r.get() != null) {
      return;
    }
    try {
      b.run();
    } catch (Throwable e) {
      binder = null; // never again; mounts on this carrier then show nothing
    }
  }

  /**
   * At the end of VirtualThread.mount (the virtual thread is now the current thread): the
   * carrier's record shows the virtual thread's context, or none.
   */
  public static void mounted() {
    ThreadLocal<ByteBuffer> r = records;
    ThreadLocal<ByteBuffer> s = shadows;
    if (r == null || s == null) {
      return;
    }
    ByteBuffer record = r.get();
    if (record == null) {
      return;
    }
    ByteBuffer shadow = hasThreadLocals() ? s.get() : null;
    if (shadow == null || shadow.get(VALID) != 1) {
      if (record.get(VALID) != 0) {
        record.put(VALID, (byte) 0);
      }
      return;
    }
    copy(shadow, record);
  }

  /** At the start of VirtualThread.unmount (still the current thread): the carrier's record shows none. */
  public static void unmounting() {
    ThreadLocal<ByteBuffer> r = records;
    if (r == null) {
      return;
    }
    ByteBuffer record = r.get();
    if (record != null && record.get(VALID) != 0) {
      record.put(VALID, (byte) 0);
    }
  }

  /** A valid record image into a live record, by the OTEP's protocol (valid cleared first, set last). */
  static void copy(ByteBuffer from, ByteBuffer to) {
    to.put(VALID, (byte) 0);
    VarHandle.storeStoreFence();
    to.putLong(TRACE_ID, from.getLong(TRACE_ID));
    to.putLong(TRACE_ID + 8, from.getLong(TRACE_ID + 8));
    to.putLong(SPAN_ID, from.getLong(SPAN_ID));
    to.put(TRACE_FLAGS, from.get(TRACE_FLAGS));
    VarHandle.storeStoreFence();
    to.put(VALID, (byte) 1);
  }

  /**
   * Whether the current thread has a thread-local map: a virtual thread without one never
   * published (ThreadLocal.get would create one for it). True where the field is unknown.
   */
  private static boolean hasThreadLocals() {
    if (THREAD_LOCALS == null) {
      return true;
    }
    try {
      return (Object) THREAD_LOCALS.invokeExact(Thread.currentThread()) != null;
    } catch (Throwable e) {
      return true;
    }
  }

  private static MethodHandle threadLocalsGetter() {
    MethodType generic = MethodType.methodType(Object.class, Thread.class);
    try {
      // Defined in java.lang, this class may call Thread's package-private accessor (JDK 25)...
      Class<?> map = Class.forName("java.lang.ThreadLocal$ThreadLocalMap", false, null);
      try {
        return MethodHandles.lookup().findVirtual(Thread.class, "threadLocals", MethodType.methodType(map))
            .asType(generic);
      } catch (NoSuchMethodException | IllegalAccessException e) {
        // ...or read its package-private field (JDK 21).
        return MethodHandles.lookup().findGetter(Thread.class, "threadLocals", map).asType(generic);
      }
    } catch (Throwable e) {
      return null; // the template itself, loaded outside java.lang (unit tests), or another JDK
    }
  }
}
