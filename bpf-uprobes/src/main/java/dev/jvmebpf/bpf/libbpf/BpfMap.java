package dev.jvmebpf.bpf.libbpf;

import java.util.ArrayList;
import java.util.List;

/**
 * A map of a loaded {@link BpfObject}, read and written by key through its file descriptor.
 * For per-CPU maps a value holds one copy per possible CPU, each {@link #valueStride()} bytes
 * apart. Valid until its object is closed.
 */
public final class BpfMap {

  private static final int BPF_MAP_TYPE_ARRAY = 2;
  private static final int PERCPU_HASH = 5;
  private static final int PERCPU_ARRAY = 6;
  private static final int LRU_PERCPU_HASH = 10;

  private final Libbpf libbpf;
  private final String name;
  private final int fd;
  private final int keySize;
  private final int valueSize;
  private final int maxEntries;
  private final boolean perCpu;

  BpfMap(Libbpf libbpf, String name, int fd, int type, int keySize, int valueSize, int maxEntries) {
    this.libbpf = libbpf;
    this.name = name;
    this.fd = fd;
    this.keySize = keySize;
    this.valueSize = valueSize;
    this.maxEntries = maxEntries;
    this.perCpu = type == PERCPU_HASH || type == PERCPU_ARRAY || type == LRU_PERCPU_HASH;
  }

  /**
   * A new array map that no object owns, for objects to share through {@link BpfObject#reuseMap}
   * (before they load); {@link #closeCreated} it when they are closed.
   */
  public static BpfMap createArray(Libbpf libbpf, String name, int valueSize, int entries) throws BpfException {
    int fd = LibbpfNative.arrayCreate(name, valueSize, entries);
    if (fd < 0) {
      throw libbpf.error("create map " + name, fd);
    }
    return new BpfMap(libbpf, name, fd, BPF_MAP_TYPE_ARRAY, Integer.BYTES, valueSize, entries);
  }

  /** Closes the descriptor of a map from {@link #createArray} (an object's own maps close with it). */
  public void closeCreated() {
    LibbpfNative.close(fd);
  }

  public String name() {
    return name;
  }

  /** The map's descriptor, for {@link BpfObject#reuseMap}. */
  public int fd() {
    return fd;
  }

  public int keySize() {
    return keySize;
  }

  public int valueSize() {
    return valueSize;
  }

  public int maxEntries() {
    return maxEntries;
  }

  public boolean isPerCpu() {
    return perCpu;
  }

  /** Number of value copies a lookup returns. */
  public int copies() {
    return perCpu ? libbpf.possibleCpus() : 1;
  }

  /** Distance between per-CPU copies (the value size rounded up to 8). */
  public int valueStride() {
    return perCpu ? (valueSize + 7) & ~7 : valueSize;
  }

  /** A buffer sized for {@link #lookup}'s result. */
  public byte[] newValue() {
    return new byte[valueStride() * copies()];
  }

  /** The value of a key into {@code value}; false when the key is absent. */
  public boolean lookup(byte[] key, byte[] value) throws BpfException {
    check(key, value);
    int rc = LibbpfNative.mapLookup(fd, key, value);
    if (rc == -Errno.ENOENT) {
      return false;
    }
    if (rc != 0) {
      throw libbpf.error("look up in map " + name, rc);
    }
    return true;
  }

  /** Writes a value; {@code flags} BPF_ANY (0), BPF_NOEXIST (1) or BPF_EXIST (2). */
  public void update(byte[] key, byte[] value, long flags) throws BpfException {
    check(key, value);
    int rc = LibbpfNative.mapUpdate(fd, key, value, flags);
    if (rc != 0) {
      throw libbpf.error("update map " + name, rc);
    }
  }

  /** Removes a key; false when it was absent. */
  public boolean delete(byte[] key) throws BpfException {
    if (key.length != keySize) {
      throw new IllegalArgumentException(name + ": key is " + keySize + " bytes, got " + key.length);
    }
    int rc = LibbpfNative.mapDelete(fd, key);
    if (rc == -Errno.ENOENT) {
      return false;
    }
    if (rc != 0) {
      throw libbpf.error("delete from map " + name, rc);
    }
    return true;
  }

  /** Every key present now (a snapshot; entries may come and go meanwhile). */
  public List<byte[]> keys() throws BpfException {
    List<byte[]> keys = new ArrayList<>();
    byte[] previous = null;
    for (int i = 0; i <= maxEntries; i++) {
      byte[] next = new byte[keySize];
      int rc = LibbpfNative.mapNextKey(fd, previous, next);
      if (rc == -Errno.ENOENT) {
        break;
      }
      if (rc != 0) {
        throw libbpf.error("iterate map " + name, rc);
      }
      keys.add(next);
      previous = next;
    }
    return keys;
  }

  private void check(byte[] key, byte[] value) {
    if (key.length != keySize) {
      throw new IllegalArgumentException(name + ": key is " + keySize + " bytes, got " + key.length);
    }
    if (value.length != valueStride() * copies()) {
      throw new IllegalArgumentException(name + ": value buffer must be " + valueStride() * copies()
          + " bytes, got " + value.length);
    }
  }
}
