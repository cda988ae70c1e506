package dev.jvmebpf.agent.bootstrap;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A zip archive (a jar) lying at a byte range of a file, read in place: the jars nested in
 * jvm-ebpf-agent.jar are stored there uncompressed, so their classes are read where they are
 * instead of being copied out to a temporary directory first (14 MB written at every start).
 *
 * <p>Only what a jar this build makes needs: one disk, no ZIP64, entries stored or deflated. The
 * central directory gives names, sizes and where each local header is; an entry's data begins
 * after its local header, whose name and extra field lengths may differ from the directory's.
 */
final class ZipSlice {

  static final int STORED = 0;
  static final int DEFLATED = 8;
  private static final long END = 0x06054b50L;
  private static final long CENTRAL = 0x02014b50L;
  private static final long LOCAL = 0x04034b50L;
  private static final int END_SIZE = 22;
  private static final int LOCAL_SIZE = 30;
  private static final int MAX_COMMENT = 0xffff;

  /** One entry, from the central directory; {@code localHeader} counts from the slice's start. */
  record Entry(String name, int method, long compressedSize, long size, long localHeader, int headerGuess) {
    boolean isDirectory() {
      return name.endsWith("/");
    }
  }

  private final long start;
  private final long length;
  /** The central directory, as read. */
  private final byte[] directory;
  /** Where each entry's central header begins in {@link #directory}. */
  private final int[] headers;
  /** Per hash bucket, the first entry's index plus one (0: none); {@link #chain} links the rest. */
  private final int[] buckets;
  private final int[] chain;
  /** Where {@link #contents} reads a local header and its data; reused, up to SCRATCH_LIMIT bytes. */
  private byte[] scratch = new byte[0];
  private static final int SCRATCH_LIMIT = 128 * 1024;

  private ZipSlice(long start, long length, byte[] directory, int[] headers) {
    this.start = start;
    this.length = length;
    this.directory = directory;
    this.headers = headers;
    int size = Integer.highestOneBit(Math.max(1, headers.length) * 2);
    this.buckets = new int[size];
    this.chain = new int[headers.length];
    for (int k = 0; k < headers.length; k++) {
      int bucket = hash(directory, headers[k] + 46, u16(directory, headers[k] + 28)) & (size - 1);
      chain[k] = buckets[bucket];
      buckets[bucket] = k + 1;
    }
  }

  /** The archive at {@code [start, start + length)} of {@code file}; an IOException when it is none. */
  static ZipSlice read(RandomAccessFile file, long start, long length) throws IOException {
    if (start < 0 || length < END_SIZE || start + length > file.length()) {
      throw new IOException("no zip archive at " + start + "+" + length);
    }
    int tail = (int) Math.min(length, END_SIZE + MAX_COMMENT);
    byte[] t = bytes(file, start + length - tail, tail);
    int end = -1;
    for (int i = tail - END_SIZE; i >= 0; i--) {
      if (u32(t, i) == END && i + END_SIZE + u16(t, i + 20) == tail) {
        end = i;
        break;
      }
    }
    if (end < 0) {
      throw new IOException("no zip end record");
    }
    int count = u16(t, end + 10);
    long directorySize = u32(t, end + 12);
    long directoryOffset = u32(t, end + 16);
    long directoryLimit = length - tail + end;
    if (count == 0xffff || directorySize == 0xffffffffL || directoryOffset == 0xffffffffL) {
      throw new IOException("a ZIP64 archive");
    }
    if (directoryOffset + directorySize > directoryLimit || directorySize > Integer.MAX_VALUE) {
      throw new IOException("its central directory lies outside the archive");
    }
    byte[] d = bytes(file, start + directoryOffset, (int) directorySize);
    int[] headers = new int[count];
    int at = 0;
    for (int k = 0; k < count; k++) {
      if (at + 46 > d.length || u32(d, at) != CENTRAL) {
        throw new IOException("entry " + k + " of the central directory is damaged");
      }
      int next = at + 46 + u16(d, at + 28) + u16(d, at + 30) + u16(d, at + 32);
      if (next > d.length || u32(d, at + 42) + 30 + u32(d, at + 20) > directoryOffset) {
        throw new IOException("entry " + k + " of the central directory is damaged");
      }
      headers[k] = at;
      at = next;
    }
    return new ZipSlice(start, length, d, headers);
  }

  /**
   * A hash of a name from its length and a few of its bytes: the last ones before a ".class"
   * suffix, and two in its middle. Names are hashed once per entry at start, for thousands of
   * entries, before the JIT has compiled anything of ours: a few reads each, not a loop over
   * every byte; chains are compared in full.
   */
  private static int hash(byte[] b, int from, int length) {
    int h = length;
    for (int back = 7; back <= 10; back++) {
      h = 31 * h + (length >= back ? b[from + length - back] : 0);
    }
    h = 31 * h + (length > 0 ? b[from + length / 2] : 0);
    h = 31 * h + (length > 0 ? b[from + length / 3] : 0);
    return h ^ (h >>> 16);
  }

  /** The entry named so, null when there is none. */
  Entry entry(String name) {
    byte[] wanted = name.getBytes(StandardCharsets.UTF_8);
    for (int k = buckets[hash(wanted, 0, wanted.length) & (buckets.length - 1)]; k != 0; k = chain[k - 1]) {
      int at = headers[k - 1];
      int nameLength = u16(directory, at + 28);
      if (nameLength == wanted.length
          && Arrays.equals(directory, at + 46, at + 46 + nameLength, wanted, 0, wanted.length)) {
        return entry(at, name);
      }
    }
    return null;
  }

  private Entry entry(int at, String name) {
    // The local header usually repeats the directory's name and extra field lengths.
    return new Entry(name, u16(directory, at + 10), u32(directory, at + 20), u32(directory, at + 24),
        u32(directory, at + 42), LOCAL_SIZE + u16(directory, at + 28) + u16(directory, at + 30));
  }

  /** Every entry, in the directory's order. */
  List<Entry> entries() {
    List<Entry> out = new ArrayList<>(headers.length);
    for (int at : headers) {
      out.add(entry(at, new String(directory, at + 46, u16(directory, at + 28), StandardCharsets.UTF_8)));
    }
    return out;
  }

  /** Where an entry's data begins in the file (after its local header). */
  long dataPosition(RandomAccessFile file, Entry entry) throws IOException {
    return start + dataOffset(entry, bytes(file, start + entry.localHeader(), LOCAL_SIZE), 0);
  }

  /** The offset in the slice of an entry's data, from its local header at {@code h[at]}. */
  private long dataOffset(Entry entry, byte[] h, int at) throws IOException {
    if (u32(h, at) != LOCAL) {
      throw new IOException(entry.name() + ": no local header where the directory says");
    }
    long data = entry.localHeader() + LOCAL_SIZE + u16(h, at + 26) + u16(h, at + 28);
    if (data + entry.compressedSize() > length) {
      throw new IOException(entry.name() + ": its data lies outside the archive");
    }
    return data;
  }

  /** An entry's contents, inflated when it is deflated. */
  byte[] contents(RandomAccessFile file, Entry entry) throws IOException {
    if (entry.size() > Integer.MAX_VALUE - 8) {
      throw new IOException(entry.name() + ": too large");
    }
    byte[] out = new byte[(int) entry.size()];
    contents(file, entry, out);
    return out;
  }

  /**
   * An entry's contents into the start of {@code out}, which has room for them. The local header
   * and the data are read together, in one read when the header has the length the directory
   * suggests (a class costs a seek and a read, not two of each).
   */
  synchronized void contents(RandomAccessFile file, Entry entry, byte[] out) throws IOException {
    if (entry.size() > out.length || entry.compressedSize() > Integer.MAX_VALUE - 8 - entry.headerGuess()) {
      throw new IOException(entry.name() + ": too large");
    }
    if (entry.method() != STORED && entry.method() != DEFLATED) {
      throw new IOException(entry.name() + ": compression method " + entry.method() + " is not supported");
    }
    if (entry.method() == STORED && entry.compressedSize() != entry.size()) {
      throw new IOException(entry.name() + ": stored, yet its two sizes differ");
    }
    int compressed = (int) entry.compressedSize();
    int wanted = (int) Math.min(entry.headerGuess() + compressed, length - entry.localHeader());
    if (scratch.length < wanted && wanted <= SCRATCH_LIMIT) {
      scratch = new byte[Math.max(wanted, 16 * 1024)];
    }
    byte[] both = scratch.length >= wanted ? scratch : new byte[wanted];
    read(file, start + entry.localHeader(), both, wanted);
    if (wanted < LOCAL_SIZE) {
      throw new IOException(entry.name() + ": no local header where the directory says");
    }
    long data = dataOffset(entry, both, 0);
    int from = (int) (data - entry.localHeader());
    byte[] in;
    if (from + compressed <= wanted) {
      in = both;
    } else { // a local header longer than the directory's: the data is read where it is
      in = new byte[compressed];
      read(file, start + data, in, compressed);
      from = 0;
    }
    if (entry.method() == STORED) {
      System.arraycopy(in, from, out, 0, compressed);
      return;
    }
    int size = (int) entry.size();
    Inflater inflater = new Inflater(true);
    try {
      inflater.setInput(in, from, compressed);
      int n = 0;
      while (n < size && !inflater.finished()) {
        int got = inflater.inflate(out, n, size - n);
        if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          break;
        }
        n += got;
      }
      if (n != size || (!inflater.finished() && inflater.inflate(new byte[1]) > 0)) {
        throw new IOException(entry.name() + ": does not inflate to " + size + " bytes");
      }
    } catch (DataFormatException e) {
      throw new IOException(entry.name() + ": " + e.getMessage(), e);
    } finally {
      inflater.end();
    }
  }

  private static byte[] bytes(RandomAccessFile file, long position, int length) throws IOException {
    byte[] out = new byte[length];
    read(file, position, out, length);
    return out;
  }

  /**
   * {@code length} bytes at {@code position} into {@code out}. Not through a FileChannel: an
   * interrupted thread loading a class would close it, and the jar with it.
   */
  private static void read(RandomAccessFile file, long position, byte[] out, int length) throws IOException {
    file.seek(position);
    file.readFully(out, 0, length);
  }

  private static int u16(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
  }

  private static long u32(byte[] b, int at) {
    return (u16(b, at) | (long) u16(b, at + 2) << 16) & 0xffffffffL;
  }
}
