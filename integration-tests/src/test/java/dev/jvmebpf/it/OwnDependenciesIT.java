package dev.jvmebpf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.it.workload.OwnDependenciesApp;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The agent's dependencies are isolated from the application's: an application carrying older
 * OpenTelemetry and jnr-ffi versions uses its own, and the agent still works with its own.
 */
class OwnDependenciesIT extends ReceiverTest {

  @ParameterizedTest(name = "JDK {0}")
  @ValueSource(ints = {17, 25})
  void applicationAndAgentEachUseTheirOwnVersions(int jdk) throws Exception {
    receiver.clear();
    String libs = Fixtures.appLibraries(name -> true);
    TargetJvm.Result run = TargetJvm.on(Fixtures.jdk(jdk)).withAgent(receiver.agentArguments("grpc"))
        .jvmArgs("-XX:+UseSerialGC", "-Xmx128m")
        .extraClassPath(libs)
        .run(Duration.ofSeconds(90), OwnDependenciesApp.class);
    assertEquals(0, run.exitCode(), run.stderr());
    assertTrue(run.value("AGENT").startsWith("on: gc"), run.value("AGENT"));
    assertEquals("opentelemetry-api-1.30.1.jar",
        run.value("OTEL_API_JAR"));
    assertTrue(run.value("JNR_JAR").startsWith("jnr-ffi-2.2.11"), run.value("JNR_JAR"));
    String[] pids = run.value("GETPID").split(" ");
    assertEquals(pids[1], pids[0], "the application's jnr-ffi called libc");

    Map<String, ExponentialHistogramDataPoint> exported = receiver.gcDurations();
    run.beans().forEach((name, collections) -> assertEquals(collections,
        exported.containsKey(name) ? exported.get(name).getCount() : 0L, "collections of " + name));
  }
}
