package dev.jvmebpf.agent;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The agent's configuration. Each key is looked up, in order, in the agent arguments
 * ({@code -javaagent:jvm-ebpf-agent.jar=exporter=console,scale=3}), system properties
 * ({@code -Djvm.ebpf.exporter=console}), environment variables ({@code JVM_EBPF_EXPORTER}) and
 * the defaults. OpenTelemetry settings keep their own names ({@code otel.*} properties and
 * {@code OTEL_*} variables, read by the SDK); an {@code otel.*} key among the agent arguments
 * overrides both.
 */
public final class AgentConfig {

  public static final String PROPERTY_PREFIX = "jvm.ebpf.";
  public static final String ENV_PREFIX = "JVM_EBPF_";

  /** Our keys with their defaults (null: no default) and meaning, for parsing and for --help. */
  static final Map<String, String[]> KEYS = keys();

  private final Map<String, String> arguments;
  private final Map<String, String> systemProperties;
  private final Map<String, String> environment;

  AgentConfig(Map<String, String> arguments, Map<String, String> systemProperties, Map<String, String> environment) {
    this.arguments = arguments;
    this.systemProperties = systemProperties;
    this.environment = environment;
  }

  private static Map<String, String[]> keys() {
    Map<String, String[]> k = new LinkedHashMap<>();
    k.put("exporter", new String[] {null, "otlp (default), console, logging-otlp or none; sets otel.metrics.exporter"});
    k.put("endpoint", new String[] {null, "OTLP endpoint; sets otel.exporter.otlp.endpoint"});
    k.put("protocol", new String[] {null, "grpc or http/protobuf; sets otel.exporter.otlp.protocol"});
    k.put("interval", new String[] {null, "export interval, e.g. 10s; sets otel.metric.export.interval"});
    k.put("service.name", new String[] {null, "service.name; sets otel.service.name"});
    k.put("scale", new String[] {"3", "exponential-histogram scale of every histogram, 0 to 3"});
    k.put("cardinality.limit", new String[] {"64", "distinct attribute values per metric before \"other\""});
    for (ProbeFamilies.Family<?> family : ProbeFamilies.ALL) {
      k.put(family.configKey(), new String[] {String.valueOf(family.onByDefault()), family.description()});
    }
    k.put("probes.placement", new String[] {"decoded",
        "decoded: libc probes on the first emulated instruction found by decoding libc; entry: at offset 0"});
    k.put("debug", new String[] {"false", "libbpf's messages and the agent's details on stderr"});
    return Collections.unmodifiableMap(k);
  }

  /** Configuration from agent arguments plus this JVM's properties and environment. */
  public static AgentConfig fromAgentArguments(String arguments) {
    Map<String, String> properties = new LinkedHashMap<>();
    System.getProperties().forEach((k, v) -> properties.put(String.valueOf(k), String.valueOf(v)));
    return new AgentConfig(parseArguments(arguments), properties, System.getenv());
  }

  /**
   * "key=value,key=value". Values may contain '='; a value containing a comma must be given as
   * a system property or environment variable instead.
   */
  static Map<String, String> parseArguments(String arguments) {
    Map<String, String> out = new LinkedHashMap<>();
    if (arguments == null || arguments.isBlank()) {
      return out;
    }
    for (String part : arguments.split(",")) {
      String item = part.trim();
      if (item.isEmpty()) {
        continue;
      }
      int eq = item.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("agent argument '" + item + "' is not key=value");
      }
      out.put(item.substring(0, eq).trim(), item.substring(eq + 1).trim());
    }
    return out;
  }

  /** Our key's value by precedence, or its default. */
  public Optional<String> get(String key) {
    Optional<String> value = explicit(key);
    if (value.isEmpty() && KEYS.containsKey(key)) {
      value = Optional.ofNullable(KEYS.get(key)[0]);
    }
    return value;
  }

  /** Set in the arguments, properties or environment (defaults left out). */
  private Optional<String> explicit(String key) {
    String value = arguments.get(key);
    if (value == null) {
      value = systemProperties.get(PROPERTY_PREFIX + key);
    }
    if (value == null) {
      value = environment.get(ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_'));
    }
    return Optional.ofNullable(value).filter(v -> !v.isBlank());
  }

  public int getInt(String key, int min, int max) {
    String raw = get(key).orElseThrow(() -> new IllegalArgumentException(key + " is not set"));
    int value;
    try {
      value = Integer.parseInt(raw.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "=" + raw + " is not a number");
    }
    if (value < min || value > max) {
      throw new IllegalArgumentException(key + "=" + value + " is outside " + min + ".." + max);
    }
    return value;
  }

  public boolean getBoolean(String key) {
    String raw = get(key).orElse("false").trim().toLowerCase(Locale.ROOT);
    return switch (raw) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new IllegalArgumentException(key + "=" + raw + " is not true or false");
    };
  }

  /** The value of {@code key}, which must be one of {@code choices} (case-insensitive). */
  public String getChoice(String key, String... choices) {
    String raw = get(key).orElse(choices[0]).trim().toLowerCase(Locale.ROOT);
    for (String choice : choices) {
      if (choice.equals(raw)) {
        return choice;
      }
    }
    throw new IllegalArgumentException(key + "=" + raw + " is not one of " + String.join(", ", choices));
  }

  /**
   * OpenTelemetry SDK settings that the agent sets over the SDK's own sources (system
   * properties, environment): our keys translated, plus every {@code otel.*} agent argument.
   */
  public Map<String, String> openTelemetryOverrides() {
    Map<String, String> out = new LinkedHashMap<>();
    explicit("exporter").ifPresent(v -> out.put("otel.metrics.exporter", v));
    explicit("endpoint").ifPresent(v -> out.put("otel.exporter.otlp.endpoint", v));
    explicit("protocol").ifPresent(v -> out.put("otel.exporter.otlp.protocol", v));
    explicit("interval").ifPresent(v -> out.put("otel.metric.export.interval", v));
    explicit("service.name").ifPresent(v -> out.put("otel.service.name", v));
    arguments.forEach((k, v) -> {
      if (k.startsWith("otel.")) {
        out.put(k, v);
      }
    });
    return out;
  }

  /** An OpenTelemetry setting as the SDK would see it: our override, else property, else env. */
  public Optional<String> openTelemetry(String otelKey) {
    String value = openTelemetryOverrides().get(otelKey);
    if (value == null) {
      value = systemProperties.get(otelKey);
    }
    if (value == null) {
      value = environment.get(otelKey.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
    }
    return Optional.ofNullable(value).filter(v -> !v.isBlank());
  }

  /** The export interval the SDK will use (its default is 60 s). */
  public Duration exportInterval() {
    return openTelemetry("otel.metric.export.interval").map(AgentConfig::parseDuration)
        .orElse(Duration.ofSeconds(60));
  }

  /** "10s", "500ms", "1m" or plain milliseconds, as the SDK reads durations. */
  static Duration parseDuration(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    try {
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2).trim()));
      }
      if (v.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1).trim()));
      }
      if (v.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1).trim()));
      }
      return Duration.ofMillis(Long.parseLong(v));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("interval '" + value + "' is not a duration like 10s or 500ms");
    }
  }
}
