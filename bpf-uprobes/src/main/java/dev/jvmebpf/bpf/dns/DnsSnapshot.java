package dev.jvmebpf.bpf.dns;

import dev.jvmebpf.bpf.FamilySnapshot;
import dev.jvmebpf.bpf.ProbeStats;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import java.util.List;

/**
 * Name lookups (getaddrinfo) of this JVM since the probes were attached (cumulative).
 *
 * @param lookups one entry per queried name and outcome
 * @param probes self-telemetry of each program
 */
public record DnsSnapshot(List<Lookup> lookups, List<ProbeStats> probes) implements FamilySnapshot {

  /**
   * Lookups of one name with one outcome.
   *
   * @param name the queried name (its first {@value DnsStructs#NAME_MAX} bytes, then "…" when it
   *     was longer), "" when getaddrinfo was given none; "other" for the overflow value
   * @param other whether this is the overflow value that names beyond the bound count under
   * @param error getaddrinfo's EAI_* code name ("EAI_NONAME", ...), null for success
   * @param durations each lookup's duration in nanoseconds
   */
  public record Lookup(String name, boolean other, String error, HistogramSnapshot durations) {}
}
