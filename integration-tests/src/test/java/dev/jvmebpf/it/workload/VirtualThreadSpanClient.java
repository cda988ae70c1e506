package dev.jvmebpf.it.workload;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs in the target JVM (JDK 21+): an application with its own OpenTelemetry SDK that runs
 * {@code tasks} tasks, each in a virtual thread of its own, all at once: task i connects to the
 * test's server, sends a 100-byte request carrying i and reads the reply (1000 + i bytes, sent after
 * the server's delay), all but every fifth inside a span of its own ({@code task <i>}) made
 * current in that virtual thread. Hundreds of virtual threads take turns on a few carriers, so a
 * carrier's previous virtual thread had a context of its own, or none. Prints {@code AGENT <status>},
 * then per task {@code TASK <i>\t<trace id or ->\t<span id or ->\t<bytes of its first read>\t
 * <carrier before the call>\t<carrier after it>\t<virtual>}. Its SDK exports its spans to the
 * endpoint itself (OTLP over HTTP, batched), as service {@link #SERVICE}.
 *
 * <p>args: port tasks OTLP-traces-endpoint
 */
public final class VirtualThreadSpanClient {

  public static final String SERVICE = "virtual-thread-span-client";
  public static final int REQUEST = 100;
  public static final int REPLY_BASE = 1000;

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int tasks = Integer.parseInt(args[1]);
    Context.current(); // the storage class loads now
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), SERVICE)))
        .addSpanProcessor(BatchSpanProcessor.builder(OtlpHttpSpanExporter.builder().setEndpoint(args[2]).build())
            .setMaxQueueSize(4 * tasks).build())
        .build();
    Tracer tracer = provider.get("app");
    System.out.println("AGENT " + Agent.awaitStatus());
    MethodHandle isVirtual = MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual",
        MethodType.methodType(boolean.class));
    // JDK 21+ API, called by reflection: these classes are built for Java 17.
    ExecutorService executor = (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor")
        .invoke(null);
    String[] lines = new String[tasks];
    for (int i = 0; i < tasks; i++) {
      int task = i;
      executor.execute(() -> {
        try {
          String carrier = carrier();
          String ids = "-\t-";
          int bytes;
          if (task % 5 != 4) {
            Span span = tracer.spanBuilder("task " + task).startSpan();
            try (Scope scope = span.makeCurrent()) {
              bytes = call(port, task);
            } finally {
              span.end();
            }
            ids = span.getSpanContext().getTraceId() + "\t" + span.getSpanContext().getSpanId();
          } else {
            bytes = call(port, task);
          }
          lines[task] = "TASK " + task + "\t" + ids + "\t" + bytes + "\t" + carrier + "\t" + carrier() + "\t"
              + (boolean) isVirtual.invokeExact(Thread.currentThread());
        } catch (Throwable e) {
          lines[task] = "FAILED " + task + "\t" + e;
        }
      });
    }
    executor.shutdown();
    if (!executor.awaitTermination(5, TimeUnit.MINUTES)) {
      throw new IllegalStateException("the tasks did not end");
    }
    provider.close();
    StringBuilder out = new StringBuilder();
    for (String line : lines) {
      out.append(line).append('\n');
    }
    System.out.print(out);
  }

  /** One exchange with the server; the bytes its first read returned. */
  private static int call(int port, int task) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      OutputStream out = s.getOutputStream();
      out.write(ByteBuffer.allocate(REQUEST).putInt(0, task).array());
      InputStream in = s.getInputStream();
      byte[] reply = new byte[REPLY_BASE + task];
      int first = -1;
      for (int got = 0; got < reply.length; ) {
        int n = in.read(reply, got, reply.length - got);
        if (n < 0) {
          throw new IllegalStateException("the server closed early");
        }
        first = first < 0 ? n : first;
        got += n;
      }
      return first;
    }
  }

  /** The carrier a virtual thread is mounted on, from its name ("VirtualThread[#22]/runnable@ForkJoinPool-1-worker-1"). */
  private static String carrier() {
    String name = Thread.currentThread().toString();
    int at = name.lastIndexOf('@');
    return at < 0 ? "-" : name.substring(at + 1);
  }
}
