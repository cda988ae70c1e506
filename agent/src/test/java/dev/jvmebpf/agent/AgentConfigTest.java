package dev.jvmebpf.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.events.EventStructs;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
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

  @Test
  void intervalMustBePositiveAndTheMessageSaysWhatIsAccepted() {
    for (String bad : new String[] {"0", "-1s", "abc", "0ms", "1.5s", "10S", "10sec", "99999999999999999999s"}) {
      AgentConfig config = arguments("exporter=none,interval=" + bad);
      String message = assertThrows(IllegalArgumentException.class, config::validateOpenTelemetry, bad).getMessage();
      assertTrue(message.startsWith("interval=" + bad + " is not a positive duration such as 10s, 500ms or 1m"),
          message);
    }
    // What the SDK accepts: an integer and ns, us, ms, s, m, h, d or no unit (milliseconds).
    assertEquals(Duration.ofSeconds(10), arguments("interval=10s").exportInterval());
    assertEquals(Duration.ofMillis(500), arguments("interval= 500ms").exportInterval());
    assertEquals(Duration.ofMinutes(1), arguments("interval=1m").exportInterval());
    assertEquals(Duration.ofHours(2), arguments("interval=2h").exportInterval());
    assertEquals(Duration.ofMillis(250), arguments("interval=250").exportInterval());
    assertEquals(Duration.ofSeconds(10), arguments("interval=10 s").exportInterval());
    assertEquals(Duration.ofSeconds(60), arguments("").exportInterval(), "the SDK's default");
  }

  @Test
  void durationsAreDescribedAsTheyAreWritten() {
    assertEquals("60s", AgentConfig.describe(arguments("").exportInterval()));
    assertEquals("500ms", AgentConfig.describe(arguments("interval=500ms").exportInterval()));
    assertEquals("1500ms", AgentConfig.describe(arguments("interval=1500ms").exportInterval()));
    assertEquals("120s", AgentConfig.describe(arguments("interval=2m").exportInterval()));
  }

  @Test
  void exitTimeoutIsADurationOfZeroOrMore() {
    assertEquals(Duration.ofSeconds(5), arguments("").exitTimeout(), "default");
    assertEquals(Duration.ZERO, arguments("exit.timeout=0").exitTimeout());
    assertEquals(Duration.ofMillis(1500), arguments("exit.timeout=1500ms").exitTimeout());
    for (String bad : new String[] {"-1s", "soon", "1.5s"}) {
      String message = assertThrows(IllegalArgumentException.class,
          arguments("exporter=none,exit.timeout=" + bad)::validateOpenTelemetry, bad).getMessage();
      assertTrue(message.startsWith("exit.timeout=" + bad + " is not a duration of 0 or more"), message);
    }
  }

  @Test
  void anIntervalFromOpenTelemetrysOwnSettingsIsNamedAsGiven() {
    assertEquals("otel.metric.export.interval=0 is not", prefix(
        new AgentConfig(Map.of(), Map.of("otel.metric.export.interval", "0"), Map.of())));
    assertEquals("OTEL_METRIC_EXPORT_INTERVAL=0 is not", prefix(
        new AgentConfig(Map.of(), Map.of(), Map.of("OTEL_METRIC_EXPORT_INTERVAL", "0"))));
    assertEquals("interval=0 is not", prefix(
        new AgentConfig(Map.of(), Map.of("jvm.ebpf.interval", "0", "otel.metric.export.interval", "5s"), Map.of())),
        "ours over the SDK's property");
    assertEquals("otel.metric.export.interval=x is not", prefix(arguments("interval=5s,otel.metric.export.interval=x")),
        "an otel.* argument over ours");
  }

  @Test
  void exporterAndProtocolAreValidatedBeforeTheSdkSeesThem() {
    assertEquals("exporter=prometheus is not one of otlp, console, logging-otlp, none", assertThrows(
        IllegalArgumentException.class, arguments("exporter=prometheus")::validateOpenTelemetry).getMessage());
    assertEquals("protocol=http is not one of grpc, http/protobuf", assertThrows(
        IllegalArgumentException.class, arguments("protocol=http")::validateOpenTelemetry).getMessage());
    AgentConfig mixedCase = arguments("exporter=Console,protocol=HTTP/protobuf");
    mixedCase.validateOpenTelemetry();
    assertEquals("console", mixedCase.openTelemetryOverrides().get("otel.metrics.exporter"),
        "the SDK matches names case-sensitively: it gets the name we accepted");
    assertEquals("http/protobuf", mixedCase.openTelemetryOverrides().get("otel.exporter.otlp.protocol"));
    arguments("").validateOpenTelemetry();
  }

  @Test
  void unknownArgumentsAreNamedWithTheClosestKey() {
    AgentConfig config = new AgentConfig(
        AgentConfig.parseArguments("scael=2,otel.anything=1,attach.id=x,jvm.ebpf.debug=true,zzz=1,probes.gcc=false"),
        Map.of("jvm.ebpf.nonsense", "1"), Map.of("JVM_EBPF_NONSENSE", "1"));
    assertEquals(Optional.of("ignoring unknown agent arguments scael (did you mean scale?), "
        + "jvm.ebpf.debug (did you mean debug?), zzz, probes.gcc (did you mean probes.gc?)"),
        config.unknownArgumentsWarning());
    assertEquals(Optional.of("ignoring unknown agent argument Interval (did you mean interval?)"),
        arguments("Interval=5s").unknownArgumentsWarning());
    assertEquals(Optional.empty(), arguments("scale=2,otel.service.name=a,attach.id=b").unknownArgumentsWarning(),
        "our keys, otel.* and the attach command's id");
    assertEquals(3, AgentConfig.editDistance("kitten", "sitting"));
    assertEquals(0, AgentConfig.editDistance("", ""));
  }

  @Test
  void listSettingsKeepTheirCommas() {
    Map<String, String> parsed = AgentConfig.parseArguments("otel.resource.attributes=a=1,b=2, c=3,scale=2,"
        + "otel.exporter.otlp.headers=k=v,x=y=z,otel.service.name=s,exporter=none");
    assertEquals(Map.of("otel.resource.attributes", "a=1,b=2,c=3", "scale", "2",
        "otel.exporter.otlp.headers", "k=v,x=y=z", "otel.service.name", "s", "exporter", "none"), parsed);
    assertEquals("a=1,b=2", arguments("otel.exporter.otlp.metrics.headers=a=1,b=2")
        .openTelemetryOverrides().get("otel.exporter.otlp.metrics.headers"));
    assertEquals(Map.of("exporter", "none", "b", "2"), AgentConfig.parseArguments("exporter=none,b=2"),
        "only a list setting is continued");
    String message = assertThrows(IllegalArgumentException.class,
        () -> AgentConfig.parseArguments("otel.resource.attributes=a=1,b")).getMessage();
    assertTrue(message.contains("'b' is not key=value") && message.contains("system property"), message);
    assertFalse(arguments("otel.resource.attributes=a=1,b=2").unknownArgumentsWarning().isPresent(),
        "a list's items are no agent arguments");
  }

  @Test
  void spanThresholdsAreDurationsOrOff() {
    AgentConfig config = arguments("spans.gc=50ms");
    assertEquals(50_000_000L, config.spanThresholdNanos("spans.gc"));
    assertEquals(0L, arguments("").spanThresholdNanos("spans.gc"), "the default: every collection");
    assertEquals(EventStructs.SPANS_OFF, arguments("spans.gc=off").spanThresholdNanos("spans.gc"));
    assertEquals(EventStructs.SPANS_OFF, arguments("spans.gc=OFF").spanThresholdNanos("spans.gc"));
    for (String bad : new String[] {"-5ms", "soon", "10 parsecs"}) {
      String message = assertThrows(IllegalArgumentException.class,
          () -> arguments("spans.gc=" + bad).spanThresholdNanos("spans.gc")).getMessage();
      assertTrue(message.startsWith("spans.gc=" + bad + " is neither off nor a duration"), message);
    }
  }

  @Test
  void spansNeedATracesExporterAndAFamilyWithSpansOn() {
    Map<String, Long> defaults = ProbeLoader.settings(arguments(""), true).spanThresholds();
    assertEquals(Map.of("gc", 0L, "safepoint", 10_000_000L, "socket", 100_000_000L, "connect", 100_000_000L,
        "dns", 50_000_000L), defaults);
    assertTrue(ProbeLoader.settings(arguments(""), false).spanThresholds().isEmpty(), "no traces exporter");
    assertTrue(ProbeLoader.settings(arguments("spans.gc=off,spans.safepoint=off,spans.dns=off,spans.socket=off,spans.connect=off"), true)
        .spanThresholds().isEmpty());
    assertEquals(Map.of("dns", 50_000_000L),
        ProbeLoader.settings(arguments("probes.gc=false,probes.socket=false,probes.safepoint=false"), true)
            .spanThresholds());
    assertEquals(1000, ProbeLoader.settings(arguments(""), true).spansPerSecond());
    assertThrows(IllegalArgumentException.class, () -> ProbeLoader.settings(arguments("spans.rate=0"), true));
  }

  @Test
  void spansFollowTheMetricsExporterUnlessTheTracesExporterIsSet() {
    assertTrue(dev.jvmebpf.agent.otel.OpenTelemetrySetup.tracesExported(arguments("")));
    assertFalse(dev.jvmebpf.agent.otel.OpenTelemetrySetup.tracesExported(arguments("exporter=none")));
    assertTrue(dev.jvmebpf.agent.otel.OpenTelemetrySetup.tracesExported(
        arguments("exporter=none,otel.traces.exporter=console")));
    assertFalse(dev.jvmebpf.agent.otel.OpenTelemetrySetup.tracesExported(
        new AgentConfig(Map.of(), Map.of(), Map.of("OTEL_TRACES_EXPORTER", "none"))));
  }

  private static AgentConfig arguments(String arguments) {
    return new AgentConfig(AgentConfig.parseArguments(arguments), Map.of(), Map.of());
  }

  /** The start of the interval's message, up to "is not". */
  private static String prefix(AgentConfig config) {
    String message = assertThrows(IllegalArgumentException.class, config::exportInterval).getMessage();
    return message.substring(0, message.indexOf(" is not") + " is not".length());
  }
}
