package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.AppSpanClient;
import dev.jvmebpf.it.workload.HeldSpanApp;
import dev.jvmebpf.it.workload.ThreadContextClient;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.processcontext.v1development.ProcessContext;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * OpenTelemetry Thread Context (OTEP 4947), both ways. Readers of ours, the kernel's: spans of
 * calls made inside a context that an independent writer (src/test/c/otel_thread_ctx_writer.c,
 * written from the OTEP's text) or the application's own OpenTelemetry SDK published are its
 * children; the others are roots. Our writer, read by an independent reader
 * (src/test/c/otel_thread_ctx_reader.c): the record of a thread holding a span current carries
 * that span's ids; the same reader finds our process context (OTEP 4719) and the generated
 * protobuf classes decode its payload.
 */
class ThreadContextIT extends ReceiverTest {

  static final int EXCHANGES = 6;
  static final long SLOW_MILLIS = 200;
  /** How far the application's clock and ours (kernel time converted to epoch time) may differ. */
  static final long CLOCKS_NANOS = 1_000_000;

  /**
   * dialect gnu2 (TLSDESC, the OTEP's recommendation): glibc places a library loaded later in its
   * static TLS reserve, at a fixed distance below each thread pointer; gnu (general dynamic):
   * a block allocated per thread, found through the thread's dynamic thread vector.
   */
  @ParameterizedTest(name = "JDK {0}, -mtls-dialect={1}")
  @CsvSource({"17,gnu2", "25,gnu"})
  void receiveSpansAreChildrenOfTheWritersContext(int jdk, String dialect) throws Exception {
    receiver.clear();
    Path home = Fixtures.jdk(jdk);
    Path dir = Files.createTempDirectory("jeb-it-ctx-");
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Path writer = compileWriter(home, dir, dialect);
      Thread answering = new Thread(() -> SocketSpanIT.answer(server, i -> SLOW_MILLIS), "slow-server");
      answering.setDaemon(true);
      answering.start();
      TargetJvm target = TargetJvm.on(home).withAgent(receiver.agentArguments("grpc"));
      if (jdk >= 24) {
        target.jvmArgs("--enable-native-access=ALL-UNNAMED"); // JNI's System.load warns otherwise
      }
      TargetJvm.Result run = target.run(Duration.ofSeconds(60), ThreadContextClient.class, writer.toString(),
          Integer.toString(server.getLocalPort()), Integer.toString(EXCHANGES));
      List<String[]> exchanges = exchanges(run);
      assertParents(exchanges, receives(server));
      HexFormat hex = HexFormat.of();
      for (int i = 0; i < EXCHANGES; i += 2) {
        String[] published = exchanges.get(i);
        String name = "ctx" + i + ".invalid";
        List<Span> lookups = receiver.spans().stream().filter(s -> s.getName().equals("DNS lookup"))
            .filter(s -> name.equals(Otlp.attributes(s.getAttributesList()).get("dns.question.name"))).toList();
        assertEquals(1, lookups.size(), "one span for the failed lookup of " + name);
        assertEquals(published[1], hex.formatHex(lookups.get(0).getTraceId().toByteArray()), name);
        assertEquals(published[2], hex.formatHex(lookups.get(0).getParentSpanId().toByteArray()), name);
      }
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          Files.delete(p);
        }
      }
      Files.delete(dir);
    }
  }

  /**
   * Our own writer: an application with its own OpenTelemetry SDK (1.30.1 from Maven Central, not
   * the agent's version) opens a span around every other slow exchange; each receive span made
   * inside one is its child, the others are roots. Its context storage was loaded before the agent
   * was on, so this also shows the rewrite of a class already loaded. The application exports its
   * spans to the receiver with its own OTLP exporter: both halves of each trace arrive.
   */
  @ParameterizedTest(name = "JDK {0}, socket.timing={1}")
  @CsvSource({"17, libc", "25, libc", "17, jdk", "25, jdk"})
  void receiveSpansAreChildrenOfTheApplicationsOwnSpans(int jdk, String timing) throws Exception {
    receiver.clear();
    // The OpenTelemetry SDK and its OTLP exporter (with okhttp): jnr-ffi's and ASM's jars are
    // OwnDependenciesIT's.
    String libs = Fixtures.appLibraries(name -> !name.startsWith("jnr-") && !name.startsWith("jffi")
        && !name.startsWith("asm"));
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread answering = new Thread(() -> SocketSpanIT.answer(server, i -> SLOW_MILLIS), "slow-server");
      answering.setDaemon(true);
      answering.start();
      // The application exports its own spans over OTLP/HTTP; the agent sends its spans over gRPC.
      TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(jdk))
          .withAgent(receiver.agentArguments("grpc") + ",spans.context=true,socket.timing=" + timing)
          .extraClassPath(libs)
          .run(Duration.ofSeconds(60), AppSpanClient.class, Integer.toString(server.getLocalPort()),
              Integer.toString(EXCHANGES), receiver.httpEndpoint() + "/v1/traces");
      List<String[]> exchanges = exchanges(run);
      List<Span> receives = receives(server);
      assertParents(exchanges, receives);

      // What a tracing backend gets: the application's spans, each with our receive span under it,
      // inside its time.
      HexFormat hex = HexFormat.of();
      List<Span> appSpans = receiver.spans(AppSpanClient.SERVICE);
      assertEquals(EXCHANGES / 2, appSpans.size(), "the application's own spans: " + appSpans);
      for (int i = 0; i < EXCHANGES; i += 2) {
        String name = "request " + i;
        Span app = appSpans.stream().filter(s -> s.getName().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError("no application span " + name));
        assertEquals(exchanges.get(i)[1], hex.formatHex(app.getTraceId().toByteArray()), name + ": trace id");
        assertEquals(exchanges.get(i)[2], hex.formatHex(app.getSpanId().toByteArray()), name + ": span id");
        assertTrue(app.getParentSpanId().isEmpty(), name + " is the application's root span");
        Span ours = receives.get(i);
        assertEquals(app.getTraceId(), ours.getTraceId(), name + ": our receive span in its trace");
        assertEquals(app.getSpanId(), ours.getParentSpanId(), name + ": our receive span its child");
        // Two clocks: the application's SDK's and the kernel's converted to epoch time (each read
        // within microseconds); the read begins after the request's write inside the span.
        assertTrue(ours.getStartTimeUnixNano() >= app.getStartTimeUnixNano() - CLOCKS_NANOS
            && ours.getEndTimeUnixNano() <= app.getEndTimeUnixNano() + CLOCKS_NANOS,
            name + " from " + app.getStartTimeUnixNano() + " to " + app.getEndTimeUnixNano() + " holds ours from "
                + ours.getStartTimeUnixNano() + " to " + ours.getEndTimeUnixNano());
      }
    }
  }

  /**
   * The writer is installed only where its records can be read: without privileges (user nobody,
   * eBPF off) or with the spans of calls off, the application's context storage is never rewritten
   * and the application runs as without the agent. Oracle: HotSpot's own log of class
   * redefinitions (-Xlog:redefine+class+load), with the writer on as the control.
   */
  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void theWriterIsInstalledOnlyWhereItsRecordsAreRead(int jdk) throws Exception {
    Path home = Fixtures.jdk(jdk);
    Path dir = Files.createTempDirectory("jeb-it-unwritten-");
    // Where user nobody writes its log (the permissions of a new directory pass the umask).
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    try {
      // Copies user nobody can read: the SDK, its exporter, the classes.
      Path libs = Files.createDirectory(dir.resolve("libs"));
      List<String> jars = new ArrayList<>();
      for (String jar : Fixtures.appLibraries(name -> !name.startsWith("jnr-") && !name.startsWith("jffi")
          && !name.startsWith("asm")).split(java.io.File.pathSeparator)) {
        jars.add(Files.copy(Path.of(jar), libs.resolve(Path.of(jar).getFileName())).toString());
      }
      String classPath = String.join(java.io.File.pathSeparator, jars);
      String on = receiver.agentArguments("grpc") + ",spans.context=true";
      Run plain = runApp(TargetJvm.on(home), dir, "plain", classPath);
      Run control = runApp(TargetJvm.on(home).withAgent(on), dir, "control", classPath);
      Run callsOff = runApp(TargetJvm.on(home).withAgent(on + ",spans.socket=off,spans.connect=off,spans.dns=off"),
          dir, "calls-off", classPath);
      Run nobody = runApp(TargetJvm.on(home).withAgent(on).asUser("nobody", Files.createDirectory(dir.resolve("b"))),
          dir, "nobody", classPath);

      System.out.println("JDK " + jdk + ", writer on, HotSpot's log of redefinitions:\n" + control.redefined());
      String storage = "name=io.opentelemetry.context.ThreadLocalContextStorage";
      assertTrue(control.redefined().contains(storage), "the control rewrites the storage: " + control.redefined());
      assertTrue(!plain.redefined().contains(storage), plain.redefined());
      // The JDK's own socket classes are the socket family's timing point (socket.timing=jdk), not the writer's.
      assertEquals("", callsOff.redefined().lines().filter(l -> !l.contains("name=sun.nio.ch."))
          .collect(java.util.stream.Collectors.joining("\n")), "no other class rewritten with the spans of calls off");
      assertEquals("", nobody.redefined(), "no class rewritten without privileges");
      assertTrue(nobody.result().stderr().contains("eBPF off"), nobody.result().stderr());
      for (Run run : List.of(control, callsOff, nobody)) {
        assertEquals(plain.result().exitCode(), run.result().exitCode(), run.name() + ": " + run.result().stderr());
        assertEquals(plain.shape(), run.shape(), run.name() + ": the application's output");
      }
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** One run of AppSpanClient: its result and HotSpot's log of class redefinitions. */
  record Run(String name, TargetJvm.Result result, String redefined) {

    /** The application's exchanges, without the ids of its spans (new in every run). */
    List<String> shape() {
      return result.values("EXCHANGE").stream().map(l -> l.replaceAll("\t[0-9a-f]{32}\t[0-9a-f]{16}$", "\tIDS"))
          .toList();
    }
  }

  private static Run runApp(TargetJvm target, Path dir, String name, String classPath) throws Exception {
    Path log = dir.resolve(name + "-redefined.log");
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread answering = new Thread(() -> SocketSpanIT.answer(server, i -> 0), "server");
      answering.setDaemon(true);
      answering.start();
      TargetJvm.Result result = target.extraClassPath(classPath)
          .jvmArgs("-Xlog:redefine+class+load=info:file=" + log)
          .run(Duration.ofSeconds(60), AppSpanClient.class, Integer.toString(server.getLocalPort()), "4");
      assertEquals(0, result.exitCode(), name + ": " + result.stderr());
      return new Run(name, result, Files.exists(log) ? Files.readString(log).strip() : "");
    }
  }

  /**
   * An independent reader (src/test/c/otel_thread_ctx_reader.c, written from the OTEP's text and
   * the ELF TLS ABI) stops the thread of an application that holds a span current, finds our
   * writer's otel_thread_ctx_v1 through /proc and the library's TLSDESC relocation, and decodes the
   * record: valid, with the application's span's trace and span ids.
   */
  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void anIndependentReaderDecodesOurWritersRecord(int jdk) throws Exception {
    Path home = Fixtures.jdk(jdk);
    Path dir = Files.createTempDirectory("jeb-it-reader-");
    try {
      Path reader = compile("otel_thread_ctx_reader.c", dir.resolve("otel_thread_ctx_reader"), List.of());
      Path release = dir.resolve("release");
      long startedAt = System.currentTimeMillis() * 1_000_000L;
      TargetJvm.Running app = TargetJvm.on(home).withAgent(receiver.agentArguments("grpc") + ",spans.context=true")
          .extraClassPath(Fixtures.appLibraries(name -> name.startsWith("opentelemetry-")))
          .start(HeldSpanApp.class, release.toString());
      String held = null;
      for (long deadline = System.nanoTime() + 60_000_000_000L; held == null && System.nanoTime() < deadline; ) {
        held = app.stdoutSoFar().lines().filter(l -> l.startsWith("HELD ")).findFirst().orElse(null);
        if (held == null) {
          assertTrue(app.isAlive(), "the application ended early: " + app.stdoutSoFar());
          Thread.sleep(20);
        }
      }
      String[] ids = held.substring(5).split("\t");
      Process read = new ProcessBuilder(reader.toString(), Long.toString(app.pid()), ids[0])
          .redirectErrorStream(true).start();
      String records = new String(read.getInputStream().readAllBytes());
      assertTrue(read.waitFor(30, TimeUnit.SECONDS));
      Files.createFile(release);
      TargetJvm.Result run = app.await(Duration.ofSeconds(60));
      assertEquals(0, run.exitCode(), run.stderr());
      String ours = records.lines().filter(l -> l.contains("/libjeb-threadctx.so ")).findFirst()
          .orElseThrow(() -> new AssertionError("the reader (exit " + read.exitValue() + ") found no record of our "
              + "writer: " + records));
      assertEquals("valid=1 flags=1 trace=" + ids[1] + " span=" + ids[2], ours.substring(ours.indexOf("valid=")),
          records);

      // The same reader, by OTEP 4719's reading protocol: our process context, its payload decoded
      // by opentelemetry-proto's generated code.
      String context = records.lines().filter(l -> l.startsWith("PROCESS_CONTEXT ")).findFirst().orElseThrow();
      assertTrue(context.startsWith("PROCESS_CONTEXT version=2 "), context);
      long publishedAt = Long.parseLong(context.replaceAll(".* published_at_ns=(\\d+) .*", "$1"));
      assertTrue(publishedAt >= startedAt && publishedAt <= System.currentTimeMillis() * 1_000_000L,
          "published at " + publishedAt + ", the application started at " + startedAt);
      ProcessContext decoded = ProcessContext.parseFrom(HexFormat.of().parseHex(
          context.substring(context.indexOf("payload=") + "payload=".length())));
      java.util.Map<String, AnyValue> resource = new java.util.HashMap<>();
      decoded.getResource().getAttributesList().forEach(kv -> resource.put(kv.getKey(), kv.getValue()));
      assertEquals(HeldSpanApp.class.getName(), resource.get("service.name").getStringValue(), resource.toString());
      assertEquals(app.pid(), resource.get("process.pid").getIntValue(), resource.toString());
      java.util.Map<String, AnyValue> threadLocal = new java.util.HashMap<>();
      decoded.getAttributesList().forEach(kv -> threadLocal.put(kv.getKey(), kv.getValue()));
      assertEquals("tls_v1", threadLocal.get("threadlocal.schema_version").getStringValue(), threadLocal.toString());
      assertEquals(AnyValue.ValueCase.ARRAY_VALUE, threadLocal.get("threadlocal.attribute_key_map").getValueCase());
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          Files.delete(p);
        }
      }
      Files.delete(dir);
    }
  }

  /** The workload's EXCHANGE lines, split, once it ran as it should: agent on, its status line only. */
  private static List<String[]> exchanges(TargetJvm.Result run) {
    assertEquals(0, run.exitCode(), run.stderr());
    assertTrue(run.value("AGENT").startsWith("on: "), run.value("AGENT"));
    assertEquals(1, run.stderr().strip().lines().count(), "the status line only: " + run.stderr());
    List<String[]> exchanges = new ArrayList<>();
    for (String line : run.values("EXCHANGE")) {
      exchanges.add(line.split("\t"));
    }
    return exchanges;
  }

  /** The receive spans from the server's port, in order. */
  private List<Span> receives(ServerSocket server) {
    return receiver.spans().stream().filter(s -> s.getName().equals("socket receive"))
        .filter(s -> Integer.toString(server.getLocalPort())
            .equals(Otlp.attributes(s.getAttributesList()).get("network.peer.port")))
        .sorted((a, b) -> Long.compare(a.getStartTimeUnixNano(), b.getStartTimeUnixNano())).toList();
  }

  /** One receive span per exchange: a child of the exchange's published span, or a root. */
  private static void assertParents(List<String[]> exchanges, List<Span> receives) {
    assertEquals(EXCHANGES, exchanges.size());
    assertEquals(EXCHANGES, receives.size(), "one span per slow reply: " + receives);
    HexFormat hex = HexFormat.of();
    for (int i = 0; i < EXCHANGES; i++) {
      String[] published = exchanges.get(i);
      Span span = receives.get(i);
      String traceId = hex.formatHex(span.getTraceId().toByteArray());
      String parentId = hex.formatHex(span.getParentSpanId().toByteArray());
      if (published[1].equals("-")) {
        assertEquals("", parentId, "exchange " + i + " ran with no context: a root span");
        for (String[] other : exchanges) {
          assertTrue(!traceId.equals(other[1]), "exchange " + i + " in a published trace");
        }
      } else {
        assertEquals(published[1], traceId, "exchange " + i + ": the writer's trace");
        assertEquals(published[2], parentId, "exchange " + i + ": the writer's span as parent");
      }
    }
  }

  /** The writer as a shared library, built with the JDK's JNI headers and the TLS dialect given. */
  static Path compileWriter(Path javaHome, Path dir, String dialect) throws IOException, InterruptedException {
    return compile("otel_thread_ctx_writer.c", dir.resolve("libotel_thread_ctx_writer.so"), List.of("-shared",
        "-fPIC", "-mtls-dialect=" + dialect, "-I" + javaHome.resolve("include"),
        "-I" + javaHome.resolve("include/linux")));
  }

  /** One of src/test/c's files, compiled with cc into {@code output}. */
  static Path compile(String source, Path output, List<String> options) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("cc", "-O2", "-Wall", "-Werror"));
    command.addAll(options);
    command.addAll(List.of("-o", output.toString(), Path.of("src/test/c", source).toAbsolutePath().toString()));
    Process cc = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(cc.getInputStream().readAllBytes());
    if (!cc.waitFor(60, TimeUnit.SECONDS) || cc.exitValue() != 0) {
      throw new IllegalStateException("cc failed: " + out);
    }
    return output;
  }
}
