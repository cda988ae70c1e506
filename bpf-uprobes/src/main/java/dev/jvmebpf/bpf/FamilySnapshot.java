package dev.jvmebpf.bpf;

import java.util.List;

/** What every probe family's snapshot carries besides its own aggregates. */
public interface FamilySnapshot {

  /** Self-telemetry of each of the family's programs: events seen, dropped, errors, overflow. */
  List<ProbeStats> probes();
}
