package dev.jvmebpf.agent;

import dev.jvmebpf.bpf.events.EventStructs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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

  /** Our keys that set an OpenTelemetry SDK setting, with its name. */
  private static final Map<String, String> TRANSLATED = Map.of(
      "exporter", "otel.metrics.exporter",
      "endpoint", "otel.exporter.otlp.endpoint",
      "protocol", "otel.exporter.otlp.protocol",
      "interval", "otel.metric.export.interval",
      "service.name", "otel.service.name");

  static final String EXPORT_INTERVAL = "otel.metric.export.interval";
  static final String[] EXPORTERS = {"otlp", "console", "logging-otlp", "none"};
  static final String[] PROTOCOLS = {"grpc", "http/protobuf"};

  /** Every key an agent argument may have besides {@code otel.*}: ours, and the attach command's id. */
  static final Set<String> ARGUMENT_KEYS = argumentKeys();

  /**
   * OpenTelemetry settings whose value is a comma-separated list of key=value pairs. After one of
   * them among the agent arguments, the following items continue its value until an item whose
   * key is one of {@link #ARGUMENT_KEYS} or starts with {@code otel.}.
   */
  static final Set<String> LIST_KEYS = Set.of("otel.resource.attributes", "otel.exporter.otlp.headers",
      "otel.exporter.otlp.metrics.headers", "otel.exporter.otlp.traces.headers", "otel.exporter.otlp.logs.headers");

  /** How far (in edits) a misspelled agent argument may be from the key it is taken for. */
  private static final int MAX_SUGGESTION_DISTANCE = 2;

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
    for (ProbeFamilies.Family<?> family : ProbeFamilies.ALL) {
      for (ProbeFamilies.Spans spans : family.spans()) {
        k.put(spans.key(), new String[] {spans.defaultValue(), spans.what() + " become spans (0: every one; "
            + "off: none)"});
      }
    }
    k.put("spans.rate", new String[] {"1000", "most spans per second per family; the others are counted "
        + "(jvm.ebpf.spans.limited)"});
    k.put("spans.context", new String[] {"true", "publish the application's OpenTelemetry span as thread "
        + "context (OTEP 4947), so that socket and lookup spans become its children"});
    k.put("process.context", new String[] {"true", "publish the OpenTelemetry process context (OTEP 4719): "
        + "a mapping named OTEL_CTX with the agent's resource, for readers outside the process"});
    k.put("socket.timing", new String[] {"jdk", "where the socket family times TCP receives and transmits: "
        + "jdk (the JDK's own TCP sockets, timed in Java: no measurable cost; native code's read/write on "
        + "sockets is not seen) or libc (uprobes on read, readv, write, writev too: native callers seen, but "
        + "every such call of the process pays, files too)"});
    k.put("probes.placement", new String[] {"decoded",
        "decoded: libc probes on the first emulated instruction found by decoding libc; entry: at offset 0"});
    k.put("exit.timeout", new String[] {"5s",
        "longest wait at exit (and detach) for the last export; 0 skips it"});
    k.put("debug", new String[] {"false", "libbpf's messages and the agent's details on stderr"});
    return Collections.unmodifiableMap(k);
  }

  private static Set<String> argumentKeys() {
    Set<String> k = new LinkedHashSet<>(KEYS.keySet());
    k.add("attach.id");
    return Collections.unmodifiableSet(k);
  }

  /** Configuration from agent arguments plus this JVM's properties and environment. */
  public static AgentConfig fromAgentArguments(String arguments) {
    Map<String, String> properties = new LinkedHashMap<>();
    System.getProperties().forEach((k, v) -> properties.put(String.valueOf(k), String.valueOf(v)));
    return new AgentConfig(parseArguments(arguments), properties, System.getenv());
  }

  /**
   * "key=value,key=value". Values may contain '='. A value containing a comma must be given as a
   * system property or environment variable instead, except for the list settings of
   * {@link #LIST_KEYS}: "otel.resource.attributes=a=1,b=2,scale=2" gives the attributes "a=1,b=2".
   */
  static Map<String, String> parseArguments(String arguments) {
    Map<String, String> out = new LinkedHashMap<>();
    if (arguments == null || arguments.isBlank()) {
      return out;
    }
    String list = null; // the list setting that the following items may continue
    for (String part : arguments.split(",")) {
      String item = part.trim();
      if (item.isEmpty()) {
        continue;
      }
      int eq = item.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("agent argument '" + item + "' is not key=value (a value that contains "
            + "a comma must be given as a system property or environment variable)");
      }
      String key = item.substring(0, eq).trim();
      if (list != null && !ARGUMENT_KEYS.contains(key) && !key.startsWith("otel.")) {
        out.merge(list, item, (previous, next) -> previous.isEmpty() ? next : previous + "," + next);
        continue;
      }
      out.put(key, item.substring(eq + 1).trim());
      list = LIST_KEYS.contains(key) ? key : null;
    }
    return out;
  }

  /**
   * The one line that names the agent arguments that are neither our keys nor {@code otel.*}
   * (those are ignored), each with the key it is probably a misspelling of; empty when all are known.
   */
  public Optional<String> unknownArgumentsWarning() {
    List<String> unknown = new ArrayList<>();
    for (String key : arguments.keySet()) {
      if (!ARGUMENT_KEYS.contains(key) && !key.startsWith("otel.")) {
        unknown.add(suggestion(key).map(known -> key + " (did you mean " + known + "?)").orElse(key));
      }
    }
    if (unknown.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of("ignoring unknown agent argument" + (unknown.size() > 1 ? "s " : " ")
        + String.join(", ", unknown));
  }

  /** The known key closest to {@code key}, if close enough; "jvm.ebpf.scale" is taken for "scale". */
  static Optional<String> suggestion(String key) {
    String lower = key.toLowerCase(Locale.ROOT);
    if (lower.startsWith(PROPERTY_PREFIX) && ARGUMENT_KEYS.contains(lower.substring(PROPERTY_PREFIX.length()))) {
      return Optional.of(lower.substring(PROPERTY_PREFIX.length()));
    }
    String best = null;
    int bestDistance = MAX_SUGGESTION_DISTANCE + 1;
    for (String known : ARGUMENT_KEYS) {
      int distance = editDistance(lower, known);
      if (distance < bestDistance) {
        best = known;
        bestDistance = distance;
      }
    }
    return Optional.ofNullable(best);
  }

  /** Levenshtein distance: the fewest insertions, deletions and substitutions from a to b. */
  static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
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
   * Validates the OpenTelemetry settings the agent translates or reads itself (exporter,
   * protocol, export interval), so that a bad value stops the start before the SDK is built or
   * anything is attached. IllegalArgumentException names the key and the accepted values.
   */
  public void validateOpenTelemetry() {
    getChoice("exporter", EXPORTERS);
    getChoice("protocol", PROTOCOLS);
    exportInterval();
    exitTimeout();
  }

  /**
   * OpenTelemetry SDK settings that the agent sets over the SDK's own sources (system
   * properties, environment): our keys translated, plus every {@code otel.*} agent argument.
   */
  public Map<String, String> openTelemetryOverrides() {
    Map<String, String> out = new LinkedHashMap<>();
    TRANSLATED.forEach((key, otelKey) -> translated(key).ifPresent(v -> out.put(otelKey, v)));
    arguments.forEach((k, v) -> {
      if (k.startsWith("otel.")) {
        out.put(k, v);
      }
    });
    return out;
  }

  /**
   * Our key's explicit value as the SDK gets it: exporter and protocol names in lower case, as
   * {@link #getChoice} accepted them (the SDK matches them case-sensitively).
   */
  private Optional<String> translated(String key) {
    Optional<String> value = explicit(key).map(String::trim);
    return key.equals("exporter") || key.equals("protocol") ? value.map(v -> v.toLowerCase(Locale.ROOT)) : value;
  }

  /** An OpenTelemetry setting as the SDK would see it: our override, else property, else env. */
  public Optional<String> openTelemetry(String otelKey) {
    return openTelemetrySetting(otelKey).map(Map.Entry::getValue).filter(v -> !v.isBlank());
  }

  /**
   * An OpenTelemetry setting with the name it was given under, for messages: the {@code otel.*}
   * agent argument, else our key that translates to it, else the system property, else the
   * environment variable.
   */
  private Optional<Map.Entry<String, String>> openTelemetrySetting(String otelKey) {
    if (arguments.containsKey(otelKey)) {
      return Optional.of(Map.entry(otelKey, arguments.get(otelKey)));
    }
    for (Map.Entry<String, String> t : TRANSLATED.entrySet()) {
      if (t.getValue().equals(otelKey)) {
        Optional<String> ours = translated(t.getKey());
        if (ours.isPresent()) {
          return Optional.of(Map.entry(t.getKey(), ours.get()));
        }
      }
    }
    if (systemProperties.get(otelKey) != null) {
      return Optional.of(Map.entry(otelKey, systemProperties.get(otelKey)));
    }
    String env = otelKey.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    return Optional.ofNullable(environment.get(env)).map(v -> Map.entry(env, v));
  }

  /**
   * The export interval the SDK will use (its default is 60 s). IllegalArgumentException, naming
   * the setting, when it is not a positive duration.
   */
  public Duration exportInterval() {
    Optional<Map.Entry<String, String>> setting =
        openTelemetrySetting(EXPORT_INTERVAL).filter(e -> !e.getValue().isBlank());
    if (setting.isEmpty()) {
      return Duration.ofSeconds(60);
    }
    String key = setting.get().getKey();
    String value = setting.get().getValue().trim();
    Duration interval = parseDuration(value);
    if (interval == null || interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException(key + "=" + value
          + " is not a positive duration such as 10s, 500ms or 1m (units ns, us, ms, s, m, h, d; none: ms)");
    }
    return interval;
  }

  /** A duration as the configuration writes one: "60s", "500ms", "1500ms". */
  static String describe(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  /**
   * How long the exit (or detach) waits for the last export at most; IllegalArgumentException,
   * naming the key, when it is not a duration of 0 or more.
   */
  public Duration exitTimeout() {
    String value = get("exit.timeout").orElse("5s").trim();
    Duration timeout = parseDuration(value);
    if (timeout == null || timeout.isNegative()) {
      throw new IllegalArgumentException("exit.timeout=" + value
          + " is not a duration of 0 or more such as 5s or 500ms (units ns, us, ms, s, m, h, d; none: ms)");
    }
    return timeout;
  }

  /**
   * {@code key}'s span threshold in nanoseconds: "off" gives {@link EventStructs#SPANS_OFF}, a duration of 0
   * or more (0: every event) its nanoseconds; IllegalArgumentException, naming the key, otherwise.
   */
  public long spanThresholdNanos(String key) {
    String value = get(key).orElse("off").trim();
    if (value.equalsIgnoreCase("off")) {
      return EventStructs.SPANS_OFF;
    }
    Duration d = parseDuration(value);
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException(key + "=" + value
          + " is neither off nor a duration of 0 or more such as 100ms (units ns, us, ms, s, m, h, d; none: ms)");
    }
    return d.toNanos();
  }

  /**
   * A duration as the SDK reads one: an integer and a unit (ns, us, ms, s, m, h or d; none means
   * milliseconds, spaces between them allowed), case-sensitive like the SDK; null when it is none.
   */
  static Duration parseDuration(String value) {
    String v = value.trim();
    int digits = 0;
    while (digits < v.length() && (Character.isDigit(v.charAt(digits)) || (digits == 0 && v.charAt(0) == '-'))) {
      digits++;
    }
    try {
      long amount = Long.parseLong(v.substring(0, digits));
      return switch (v.substring(digits).trim()) {
        case "", "ms" -> Duration.ofMillis(amount);
        case "ns" -> Duration.ofNanos(amount);
        case "us" -> Duration.ofNanos(Math.multiplyExact(amount, 1_000L));
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        case "h" -> Duration.ofHours(amount);
        case "d" -> Duration.ofDays(amount);
        default -> null;
      };
    } catch (NumberFormatException | ArithmeticException e) {
      return null;
    }
  }
}
