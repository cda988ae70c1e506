package dev.jvmebpf.agent;

import java.util.List;
import java.util.Map;

/**
 * What the agent tells about itself: its one status line on stderr and the same state in system
 * properties, which tests, tools and the attach command read.
 */
final class AgentStatus {

  /** "on: gc, safepoint, allocation", "partial: ...", "degraded: ...", "off: ...". */
  static final String STATUS_PROPERTY = "jvm.ebpf.agent.status";
  /**
   * The {@code attach.id} the attach command passed, published once the status belongs to that
   * start: the command waits for its own id before it believes the status.
   */
  static final String ATTACH_ID_PROPERTY = "jvm.ebpf.agent.attach.id";
  /**
   * The GC MXBeans' collection counts at the instant the GC family began counting, as
   * "collector=count;...": a collector's count in jvm.gc.duration is its MXBean count minus this.
   * Set before the status says "on"; absent when that instant could not be pinned down.
   */
  static final String GC_COUNTED_AFTER_PROPERTY = "jvm.ebpf.agent.gc.counted.after";

  private AgentStatus() {}

  /** The started line and property, from what attaching the families gave. */
  static void announce(AgentLog log, String version, ProbeLoader.Result probes, String exporting) {
    if (probes.bpfOff() != null) {
      log.status("jvm-ebpf-agent " + version + ": eBPF off (" + probes.bpfOff() + "); jvm.gc.duration comes from "
          + "the GC MXBeans meanwhile (millisecond resolution, no safepoint metrics); " + exporting);
      set("degraded: " + probes.bpfOff());
      return;
    }
    List<String> attached = probes.attached();
    String line = "jvm-ebpf-agent " + version + ": eBPF on, probes "
        + (attached.isEmpty() ? "none" : String.join(", ", attached));
    if (!probes.problems().isEmpty()) {
      line += "; " + String.join("; ", probes.problems());
    }
    log.status(line + "; " + exporting);
    set((probes.problems().isEmpty() ? "on: " : "partial: ") + String.join(", ", attached));
  }

  static void set(String status) {
    try {
      System.setProperty(STATUS_PROPERTY, AgentLog.withoutCredentials(status));
    } catch (RuntimeException ignored) {
      // Informative only.
    }
  }

  /** The attach id among raw agent arguments, if any, even when they do not parse otherwise. */
  static void publishAttachId(String arguments) {
    if (arguments == null) {
      return;
    }
    for (String part : arguments.split(",")) {
      if (part.trim().startsWith("attach.id=")) {
        setAttachId(part.trim().substring("attach.id=".length()));
      }
    }
  }

  static void setGcCountedAfter(Map<String, Long> counts) {
    StringBuilder value = new StringBuilder();
    counts.forEach((collector, count) -> value.append(value.isEmpty() ? "" : ";").append(collector).append('=').append(count));
    try {
      System.setProperty(GC_COUNTED_AFTER_PROPERTY, value.toString());
    } catch (RuntimeException ignored) {
      // Informative only.
    }
  }

  static void clearGcCountedAfter() {
    try {
      System.clearProperty(GC_COUNTED_AFTER_PROPERTY);
    } catch (RuntimeException ignored) {
      // Informative only.
    }
  }

  static void setAttachId(String id) {
    try {
      System.setProperty(ATTACH_ID_PROPERTY, id);
    } catch (RuntimeException ignored) {
      // Informative only.
    }
  }
}
