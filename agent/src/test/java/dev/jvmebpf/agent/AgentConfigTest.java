package dev.jvmebpf.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Precedence of the configuration's sources, and what a bad value says. */
class AgentConfigTest {

  @Test
  void argumentsOverPropertiesOverEnvironmentOverDefaults() {
    AgentConfig config = new AgentConfig(AgentConfig.parseArguments("scale=1, probes.native=true"),
        Map.of("jvm.ebpf.scale", "2", "jvm.ebpf.cardinality.limit", "16"),
        Map.of("JVM_EBPF_SCALE", "0", "JVM_EBPF_CARDINALITY_LIMIT", "8", "JVM_EBPF_PROBES_GC", "false"));
    assertEquals(1, config.getInt("scale", 0, 3));
    assertEquals(16, config.getInt("cardinality.limit", 1, 4096));
    assertEquals(false, config.getBoolean("probes.gc"));
    assertEquals(true, config.getBoolean("probes.native"));
    assertEquals(true, config.getBoolean("probes.safepoint"), "the default");
    assertEquals("decoded", config.getChoice("probes.placement", "decoded", "entry"), "the default");
  }

  @Test
  void badValuesNameTheKey() {
    AgentConfig config = new AgentConfig(AgentConfig.parseArguments("scale=9,probes.gc=maybe,probes.placement=start"),
        Map.of(), Map.of());
    assertEquals("scale=9 is outside 0..3",
        assertThrows(IllegalArgumentException.class, () -> config.getInt("scale", 0, 3)).getMessage());
    assertEquals("probes.gc=maybe is not true or false",
        assertThrows(IllegalArgumentException.class, () -> config.getBoolean("probes.gc")).getMessage());
    assertEquals("probes.placement=start is not one of decoded, entry", assertThrows(IllegalArgumentException.class,
        () -> config.getChoice("probes.placement", "decoded", "entry")).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentConfig.parseArguments("scale"))
        .getMessage().contains("not key=value"));
  }

  @Test
  void openTelemetrySettingsKeepTheirNames() {
    AgentConfig config = new AgentConfig(AgentConfig.parseArguments("interval=500ms,otel.service.name=a"),
        Map.of("otel.exporter.otlp.protocol", "http/protobuf"), Map.of("OTEL_SERVICE_NAME", "b"));
    assertEquals(Duration.ofMillis(500), config.exportInterval());
    assertEquals("a", config.openTelemetry("otel.service.name").orElseThrow(), "an argument wins");
    assertEquals("http/protobuf", config.openTelemetry("otel.exporter.otlp.protocol").orElseThrow());
    assertEquals(Duration.ofMinutes(2), AgentConfig.parseDuration("2m"));
  }
}
