package dev.jvmebpf.agent.context;

import java.util.function.Consumer;

/**
 * What the OpenTelemetry context storages that {@link ContextStorageTransformer} rewrote call
 * instead of {@code ThreadLocal.set}. Never loaded under this name:
 * {@link ThreadContextInstrumentation} defines a copy of it in {@code java.lang} as
 * {@code JebContextBridge} (bootstrap class loader), which every class loader sees: the
 * application's, and the OpenTelemetry Java agent's, whose relocated storage is itself a bootstrap
 * class. So it uses JDK types only, has no nested class and no lambda, and the agent reaches it
 * through reflection. (Appending the agent jar to the bootstrap search path instead would turn
 * class data sharing off for all other classes, and HotSpot warns about it.)
 */
public final class ContextBridge {

  private static volatile Consumer<Object> listener;

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
}
