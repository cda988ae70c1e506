package dev.jvmebpf.agent.otel;

import dev.jvmebpf.bpf.process.JvmProcess;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.resources.Resource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The resource our metrics describe: this process. What the user configured (OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES...) wins; when no service name is configured it is the main class or
 * the jar's name. {@code telemetry.distro.*} always names this agent.
 */
public final class AgentResource {

  static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
  static final AttributeKey<String> SERVICE_INSTANCE_ID = AttributeKey.stringKey("service.instance.id");
  static final AttributeKey<String> DISTRO_NAME = AttributeKey.stringKey("telemetry.distro.name");
  static final AttributeKey<String> DISTRO_VERSION = AttributeKey.stringKey("telemetry.distro.version");

  private AgentResource() {}

  static Resource customize(Resource configured, String agentVersion) {
    Attributes process = Attributes.builder()
        .put("process.pid", JvmProcess.selfPid())
        .put("process.runtime.name", System.getProperty("java.runtime.name", "Java"))
        .put("process.runtime.version", System.getProperty("java.runtime.version", ""))
        .put("process.runtime.description", System.getProperty("java.vm.vendor", "") + " "
            + System.getProperty("java.vm.name", "") + " " + System.getProperty("java.vm.version", ""))
        .put("host.name", hostName())
        .build();
    Resource merged = Resource.create(process).merge(configured);
    String service = merged.getAttribute(SERVICE_NAME);
    if (service == null || service.startsWith("unknown_service")) {
      merged = merged.merge(Resource.create(Attributes.of(SERVICE_NAME,
          serviceNameFromCommand(System.getProperty("sun.java.command", "")))));
    }
    if (merged.getAttribute(SERVICE_INSTANCE_ID) == null) {
      merged = merged.merge(Resource.create(Attributes.of(SERVICE_INSTANCE_ID, instanceId())));
    }
    return merged.merge(Resource.create(Attributes.of(DISTRO_NAME, "jvm-ebpf-agent", DISTRO_VERSION, agentVersion)));
  }

  /**
   * This JVM's instance id: a UUID (version 8, RFC 9562) hashed from host, pid and the process's
   * start (in clock ticks since boot, from /proc/self/stat), the same for every attach to one
   * process and different for every process. Neither randomUUID nor nameUUIDFromBytes: both
   * initialize the JDK's SecureRandom provider, which keeps /dev/random and /dev/urandom open in
   * the application's JVM after the agent detached. Not RuntimeMXBean's start time: its
   * management classes cost the start about 15 ms.
   */
  static String instanceId() {
    return instanceId(hostName(), JvmProcess.selfPid(), processStart());
  }

  static String instanceId(String host, long pid, long start) {
    byte[] bytes = (host + "/" + pid + "/" + start).getBytes(StandardCharsets.UTF_8);
    long high = fnv1a(bytes, 0xcbf29ce484222325L);
    long low = fnv1a(bytes, 0x84222325cbf29ce4L);
    high = (high & ~0xf000L) | 0x8000L; // version 8
    low = (low & 0x3fffffffffffffffL) | 0x8000000000000000L; // variant 10
    return new UUID(high, low).toString();
  }

  /**
   * The process's start in clock ticks after boot: field 22 of /proc/self/stat, counted after the
   * command name's closing parenthesis (the name may hold spaces and parentheses); -1 if unread.
   */
  static long processStart() {
    try {
      String stat = new String(Files.readAllBytes(Path.of("/proc/self/stat")), StandardCharsets.ISO_8859_1);
      int at = stat.lastIndexOf(')') + 1;
      for (int field = 2; field < 22; field++) { // after the pass for field k, field k + 1 begins at `at`
        at = stat.indexOf(' ', at) + 1;
        if (at == 0) {
          return -1;
        }
      }
      int end = stat.indexOf(' ', at);
      return Long.parseLong(end < 0 ? stat.substring(at).trim() : stat.substring(at, end));
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** 64-bit FNV-1a from {@code basis}, then a final avalanche so that all bits depend on all input. */
  private static long fnv1a(byte[] bytes, long basis) {
    long h = basis;
    for (byte b : bytes) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h;
  }

  /** The main class, or the jar's file name without ".jar", of a java command line. */
  static String serviceNameFromCommand(String command) {
    String trimmed = command.trim();
    int end = 0;
    while (end < trimmed.length() && !Character.isWhitespace(trimmed.charAt(end))) {
      end++;
    }
    String first = trimmed.substring(0, end); // no regular expression: the start would compile one
    if (first.isEmpty()) {
      return "unknown_service:java";
    }
    if (first.endsWith(".jar")) {
      String file = Path.of(first).getFileName().toString();
      return file.substring(0, file.length() - 4);
    }
    return first;
  }

  /** From the kernel, without a DNS lookup that could block. */
  private static String hostName() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).trim();
    } catch (IOException | RuntimeException e) {
      String env = System.getenv("HOSTNAME");
      return env == null ? "unknown" : env;
    }
  }
}
