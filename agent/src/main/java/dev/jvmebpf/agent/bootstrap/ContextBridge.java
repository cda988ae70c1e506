package dev.jvmebpf.agent.bootstrap;

import java.util.function.Consumer;

/**
 * What the OpenTelemetry context storages that {@code ContextStorageTransformer} rewrote call
 * instead of {@code ThreadLocal.set}. Like the rest of this package it is loaded by the
 * application's class loader from the agent jar (on the system class path), so every class
 * loader that delegates to that one sees it; the transformer rewrites only classes whose loader
 * does. JDK types only. (The bootstrap loader would reach every loader, but appending to its
 * search path turns class data sharing off for all other classes and HotSpot warns about it.)
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
