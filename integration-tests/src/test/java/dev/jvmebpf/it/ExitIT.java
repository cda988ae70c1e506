package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.TimedExitApp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The application's exit is not held up by the backend: a refused connection costs it nothing
 * measurable (at most 1 s more than the same application without the agent), and a backend that
 * accepts but never answers holds it for the configured {@code exit.timeout} at most. The delay
 * is from the application's last line (its own clock) to the end of its process (ours).
 */
class ExitIT {

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"return", "exit"})
  void aRefusedConnectionCostsTheExitNothingMeasurable(String how) throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    long without = exitDelay(TargetJvm.on(Fixtures.jdk17()), how);
    long with = exitDelay(TargetJvm.on(Fixtures.jdk17())
        .withAgent("protocol=grpc,endpoint=http://127.0.0.1:" + closedPort), how);
    System.out.println("refused, " + how + ": exit " + with + " ms after main with the agent, " + without + " without");
    assertTrue(with <= without + 1_000, "exit took " + with + " ms after main with the agent, " + without
        + " ms without");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"grpc", "http/protobuf"})
  void aSilentBackendHoldsTheExitAtMostTheTimeout(String protocol) throws Exception {
    try (SilentServer silent = new SilentServer()) {
      long without = exitDelay(TargetJvm.on(Fixtures.jdk17()), "return");
      long with = exitDelay(TargetJvm.on(Fixtures.jdk17()).withAgent("protocol=" + protocol
          + ",endpoint=http://127.0.0.1:" + silent.port() + ",exit.timeout=2s"), "return");
      System.out.println("silent, " + protocol + ": exit " + with + " ms after main with the agent, " + without
          + " without");
      assertTrue(silent.accepted() > 0, "the last export reached the backend");
      assertTrue(with >= 1_500, "the exit waited for the last export: " + with + " ms");
      assertTrue(with <= without + 2_000 + 1_000, "exit took " + with + " ms after main with exit.timeout=2s, "
          + without + " ms without");
    }
  }

  /**
   * At the JVM's exit the probes are handed to a helper that removes them after the JVM has gone
   * (the kernel's grace periods no longer hold the exit up). What must hold: nothing else of the
   * JVM outlives it (its listening socket is free to bind at once, as a restarted server needs),
   * and the probes do not stay: every program of ours is gone within seconds (bpftool).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"return", "exit"})
  void onlyTheProbesOutliveTheJvmAndOnlyBriefly(String how) throws Exception {
    assertTrue(ProcessIsolationIT.awaitNoProgramsOfOurs(Duration.ofSeconds(10)).isEmpty(), "programs of ours before the run");
    TargetJvm.Result run = TargetJvm.on(Fixtures.jdk17()).withAgent("exporter=none")
        .run(Duration.ofSeconds(60), TimedExitApp.class, how, "listen");
    assertEquals(0, run.exitCode(), run.stderr());
    assertTrue(run.value("STATUS").startsWith("on"), "agent status " + run.value("STATUS") + "\n" + run.stderr());
    int port = Integer.parseInt(run.value("PORT"));
    try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertEquals(port, again.getLocalPort());
    } catch (java.net.BindException e) {
      throw new AssertionError("port " + port + " of the exited JVM is still held", e);
    }
    long exited = System.nanoTime();
    List<ProcessIsolationIT.Program> left = ProcessIsolationIT.awaitNoProgramsOfOurs(Duration.ofSeconds(10));
    assertTrue(left.isEmpty(), "programs of ours 10 s after the JVM exited: " + left);
    System.out.printf("%s: probes gone %d ms after the JVM's exit was seen%n", how,
        (System.nanoTime() - exited) / 1_000_000);
  }

  /** Milliseconds from the application's last line to the end of its process. */
  private static long exitDelay(TargetJvm jvm, String how) throws Exception {
    TargetJvm.Result run = jvm.run(Duration.ofSeconds(60), TimedExitApp.class, how);
    long ended = System.currentTimeMillis();
    assertEquals(0, run.exitCode(), run.stderr());
    String status = run.value("STATUS");
    assertTrue(status.equals("none") || status.startsWith("on") || status.startsWith("partial"),
        "agent status " + status + "\n" + run.stderr());
    return ended - Long.parseLong(run.value("MAIN_END"));
  }

  /** Accepts connections and never reads or answers them. */
  private static final class SilentServer implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final List<Socket> held = new ArrayList<>();
    private final Thread acceptor = new Thread(this::acceptAll, "silent-backend");

    SilentServer() throws IOException {
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return server.getLocalPort();
    }

    synchronized int accepted() {
      return held.size();
    }

    private void acceptAll() {
      try {
        while (true) {
          Socket s = server.accept();
          synchronized (this) {
            held.add(s);
          }
        }
      } catch (IOException closed) {
        // close() ends the loop
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      synchronized (this) {
        for (Socket s : held) {
          s.close();
        }
      }
    }
  }
}
