package dev.jvmebpf.bpf;

import dev.jvmebpf.bpf.hist.HistStructs;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfMap;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Self-telemetry of one BPF program (a {@code struct probe_stats} summed over CPUs).
 *
 * @param probe the program's name, e.g. {@code usdt_gc_begin}
 * @param events times it ran for our process
 * @param dropped events lost because a map was full or a ring buffer had no room
 * @param errors events that could not be read (a failed user-memory read, an end whose begin
 *     happened before we attached)
 * @param overflow events whose attribute was folded into the bounded set's {@code other} value
 * @param spans events sent to the span ring buffer
 */
public record ProbeStats(String probe, long events, long dropped, long errors, long overflow, long spans) {

  /** Reads a per-CPU array of probe_stats indexed by program number; programs in that order. */
  public static List<ProbeStats> read(BpfMap map, List<String> programs) throws BpfException {
    List<ProbeStats> out = new ArrayList<>(programs.size());
    byte[] value = map.newValue();
    for (int i = 0; i < programs.size(); i++) {
      byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(i).array();
      long events = 0;
      long dropped = 0;
      long errors = 0;
      long overflow = 0;
      long spans = 0;
      if (map.lookup(key, value)) {
        ByteBuffer in = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        for (int cpu = 0; cpu < map.copies(); cpu++) {
          int at = cpu * map.valueStride();
          events += in.getLong(at + HistStructs.PROBE_STATS.offset("events"));
          dropped += in.getLong(at + HistStructs.PROBE_STATS.offset("dropped"));
          errors += in.getLong(at + HistStructs.PROBE_STATS.offset("errors"));
          overflow += in.getLong(at + HistStructs.PROBE_STATS.offset("overflow"));
          spans += in.getLong(at + HistStructs.PROBE_STATS.offset("spans"));
        }
      }
      out.add(new ProbeStats(programs.get(i), events, dropped, errors, overflow, spans));
    }
    return out;
  }
}
