package dev.jvmebpf.agent.context;

import dev.jvmebpf.bpf.events.ThreadContextWriter;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The bridge's listener: each context that becomes current on a thread (the application's
 * OpenTelemetry {@code Context}, of whatever class loader and relocation) is published as that
 * thread's OpenTelemetry thread context through {@link ThreadContextWriter}: the span's ids and
 * flags, or nothing when the context holds no valid span. The application's API is reached
 * through method handles found once per context class (its own {@code Span.fromContext},
 * {@code getSpanContext}, ...), so any API version works and none of our classes is shared.
 */
final class ContextPublisher implements Consumer<Object> {

  private static final String CONTEXT = String.join(".", "io", "opentelemetry", "context", "Context");
  private static final String SPAN = String.join(".", "io", "opentelemetry", "api", "trace", "Span");
  private static final String SPAN_CONTEXT = String.join(".", "io", "opentelemetry", "api", "trace", "SpanContext");
  private static final String TRACE_FLAGS = String.join(".", "io", "opentelemetry", "api", "trace", "TraceFlags");

  private final ThreadContextWriter writer;
  private final BooleanSupplier silent;
  private final ClassValue<Accessor> accessors = new ClassValue<>() {
    @Override
    protected Accessor computeValue(Class<?> type) {
      return Accessor.of(type);
    }
  };

  /** {@code silent}: another writer publishes thread contexts in this process; ours must not. */
  ContextPublisher(ThreadContextWriter writer, BooleanSupplier silent) {
    this.writer = writer;
    this.silent = silent;
  }

  @Override
  public void accept(Object context) {
    if (silent.getAsBoolean()) {
      return;
    }
    Accessor accessor = context == null ? null : accessors.get(context.getClass());
    if (accessor == null || !accessor.publish(context, writer)) {
      writer.clear();
    }
  }

  /** The method handles of one API copy; null fields: that class is no OpenTelemetry context. */
  record Accessor(MethodHandle fromContext, MethodHandle spanContext, MethodHandle isValid, MethodHandle traceId,
      MethodHandle spanId, MethodHandle flags) {

    /** Publishes the context's span; false when it has none (or a call failed). */
    boolean publish(Object context, ThreadContextWriter writer) {
      try {
        Object span = (Object) fromContext.invokeExact(context);
        Object ids = (Object) spanContext.invokeExact(span);
        if (!(boolean) isValid.invokeExact(ids)) {
          return false;
        }
        writer.publish((String) traceId.invokeExact(ids), (String) spanId.invokeExact(ids),
            (int) (byte) flags.invokeExact(ids));
        return true;
      } catch (Throwable e) {
        return false;
      }
    }

    /** The accessor for contexts of {@code type}; null when it implements no OpenTelemetry Context. */
    static Accessor of(Class<?> type) {
      Class<?> contextType = contextInterface(type);
      if (contextType == null) {
        return null;
      }
      String prefix = contextType.getName().substring(0, contextType.getName().length() - CONTEXT.length());
      try {
        ClassLoader loader = contextType.getClassLoader();
        Class<?> span = Class.forName(prefix + SPAN, false, loader);
        Class<?> spanContext = Class.forName(prefix + SPAN_CONTEXT, false, loader);
        Class<?> traceFlags = Class.forName(prefix + TRACE_FLAGS, false, loader);
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        MethodType objectToObject = MethodType.methodType(Object.class, Object.class);
        MethodHandle asByte = lookup.findVirtual(traceFlags, "asByte", MethodType.methodType(byte.class));
        return new Accessor(
            lookup.findStatic(span, "fromContext", MethodType.methodType(span, contextType)).asType(objectToObject),
            lookup.findVirtual(span, "getSpanContext", MethodType.methodType(spanContext)).asType(objectToObject),
            lookup.findVirtual(spanContext, "isValid", MethodType.methodType(boolean.class))
                .asType(MethodType.methodType(boolean.class, Object.class)),
            lookup.findVirtual(spanContext, "getTraceId", MethodType.methodType(String.class))
                .asType(MethodType.methodType(String.class, Object.class)),
            lookup.findVirtual(spanContext, "getSpanId", MethodType.methodType(String.class))
                .asType(MethodType.methodType(String.class, Object.class)),
            MethodHandles.filterReturnValue(
                lookup.findVirtual(spanContext, "getTraceFlags", MethodType.methodType(traceFlags)), asByte)
                .asType(MethodType.methodType(byte.class, Object.class)));
      } catch (ReflectiveOperationException | LinkageError | RuntimeException noTraceApi) {
        return null; // the context API without the trace API: no spans to publish
      }
    }

    private static Class<?> contextInterface(Class<?> type) {
      for (Class<?> c = type; c != null; c = c.getSuperclass()) {
        for (Class<?> i : c.getInterfaces()) {
          Class<?> found = i.getName().equals(CONTEXT) || i.getName().endsWith("." + CONTEXT) ? i : contextInterface(i);
          if (found != null) {
            return found;
          }
        }
      }
      return null;
    }
  }
}
