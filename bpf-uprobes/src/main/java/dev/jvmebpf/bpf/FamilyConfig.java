package dev.jvmebpf.bpf;

import dev.jvmebpf.bpf.btf.StructLayout;
import dev.jvmebpf.bpf.events.EventStructs;
import dev.jvmebpf.bpf.events.SpanEvents;
import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfObject;
import dev.jvmebpf.bpf.process.JvmProcess;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a family sets in its object before load: the {@code const volatile} record {@code config}
 * (its header's {@code struct <family>_config}, mirrored by a {@link StructLayout} that
 * KernelLayoutTest checks against the object's BTF), written member by member by name and
 * beginning with the process filter of the JVM observed (member {@code process}), and the
 * sizes of the maps that Java bounds. {@link ProbeFamily#open} applies it.
 */
public final class FamilyConfig {

  private final StructLayout layout;
  private final ByteBuffer record;
  private final Map<String, Integer> mapSizes = new LinkedHashMap<>();
  private SpanEvents events;

  private FamilyConfig(StructLayout layout, JvmProcess jvm) {
    this.layout = layout;
    this.record = layout.allocate();
    jvm.writeFilter(record.position(layout.offset("process")));
  }

  /** A zeroed record of {@code layout} holding {@code jvm}'s process filter. */
  public static FamilyConfig of(StructLayout layout, JvmProcess jvm) {
    return new FamilyConfig(layout, jvm);
  }

  /** The bucket table of {@code histogram} in the member {@code name} (a struct hist_layout). */
  public FamilyConfig histogram(String name, HistogramLayout histogram) {
    histogram.writeTo(record.position(layout.offset(name)));
    return this;
  }

  public FamilyConfig putLong(String name, long value) {
    record.putLong(layout.offset(name), value);
    return this;
  }

  /** A 32-bit member, or element {@code index} of an array of them. */
  public FamilyConfig putInt(String name, int index, int value) {
    record.putInt(layout.offset(name) + 4 * index, value);
    return this;
  }

  public FamilyConfig putInt(String name, int value) {
    return putInt(name, 0, value);
  }

  /**
   * The object's span threshold {@code member} (a u64 of nanoseconds): events lasting at least
   * {@code minNanos} go into {@code events}' ring, which the object's map {@code events} then
   * shares (and its map {@code thread_ctx}, the events' thread context location); 0 sends every
   * event, {@link EventStructs#SPANS_OFF} none. With {@code events} null
   * there are no spans, whatever the threshold.
   */
  public FamilyConfig spans(SpanEvents events, String member, long minNanos) {
    if (events != null) {
      this.events = events;
    }
    return putLong(member, events == null ? EventStructs.SPANS_OFF : minNanos);
  }

  /** The map {@code name} will hold at most {@code entries} entries. */
  public FamilyConfig mapSize(String name, int entries) {
    mapSizes.put(name, entries);
    return this;
  }

  /** The config record as the object will hold it. */
  public byte[] bytes() {
    return record.array().clone();
  }

  void applyTo(BpfObject object) throws BpfException {
    object.setConfig("config", bytes());
    for (Map.Entry<String, Integer> size : mapSizes.entrySet()) {
      object.setMaxEntries(size.getKey(), size.getValue());
    }
    if (events != null) {
      object.reuseMap("events", events.fd());
      object.reuseMap("thread_ctx", events.threadContextFd());
    }
  }
}
