package dev.jvmebpf.bpf.hist;

import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.BpfMap;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/** Reads and creates {@code struct hist} values in maps (shared or per-CPU), keyed by an attribute id or a key struct. */
public final class HistogramMaps {

  private HistogramMaps() {}

  public static byte[] key(int id) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(id).array();
  }

  /** The histogram under {@code id}, empty when the map has no such key. */
  public static Optional<HistogramSnapshot> read(BpfMap map, int id, HistogramLayout layout) throws BpfException {
    return read(map, key(id), layout);
  }

  /** The histogram under a key of the map's own key size, empty when the map has no such key. */
  public static Optional<HistogramSnapshot> read(BpfMap map, byte[] key, HistogramLayout layout)
      throws BpfException {
    requireHist(map);
    byte[] value = map.newValue();
    if (!map.lookup(key, value)) {
      return Optional.empty();
    }
    return Optional.of(HistogramSnapshot.fromCopies(layout, value, map.copies(), map.valueStride()));
  }

  /** Creates a zeroed histogram under {@code id} unless one exists (the `other` id, up front). */
  public static void create(BpfMap map, int id) throws BpfException {
    create(map, key(id));
  }

  /** Creates a zeroed histogram under {@code key} unless one exists. */
  public static void create(BpfMap map, byte[] key) throws BpfException {
    requireHist(map);
    byte[] value = map.newValue();
    if (!map.lookup(key, value)) {
      map.update(key, map.newValue(), 1 /* BPF_NOEXIST */);
    }
  }

  private static void requireHist(BpfMap map) {
    if (map.valueSize() != HistStructs.HIST.size()) {
      throw new IllegalArgumentException(map.name() + " is not a map of struct hist");
    }
  }
}
