package dev.jvmebpf.agent.bootstrap;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * A jar the agent's class loaders read from, opened on first use and closable at any time: the
 * next read opens it again. The JDK's own jar readers keep their file open for the class loader's
 * life, which for the agent is the JVM's; closing these when the agent detaches leaves no
 * descriptor behind, while the classes stay loaded for a later attach.
 *
 * <p>The jar may lie inside another file ({@link ZipSlice}): the agent's nested jars are read
 * where they are in jvm-ebpf-agent.jar. A file that changed on disk since its first read (another
 * agent version copied over it between a detach and the next attach) is refused by name rather
 * than read at offsets that no longer hold what they did.
 *
 * <p>Classes are read straight from the jar. Resources asked for as files or URLs (native
 * libraries) are extracted on first request into a directory and handed out as files, so that no
 * {@code jar:} URL (which the JDK caches, open) ever exists; services files and the agent's own
 * resources are read straight from the jar too (see JarClassLoader).
 */
final class ReopenableJar implements AutoCloseable {

  private final Path path;
  private final String name;
  private final long start;
  private final long length;
  private final Path resources;
  private RandomAccessFile file;
  private ZipSlice slice;
  /** Size, modification time and file key at the first open; null before it. */
  private List<Object> identity;
  /** Arrays that {@link #release} handed back (at most {@link #SPARE_ARRAYS}; a load nested deeper reads into a new one). */
  private final ArrayDeque<byte[]> spare = new ArrayDeque<>();
  private static final int SPARE_ARRAYS = 2;

  /** The jar that is the whole of {@code path}. */
  ReopenableJar(Path path, Path resources) {
    this(path, path.toString(), 0, -1, resources);
  }

  /**
   * The jar at {@code [start, start + length)} of {@code path}, called {@code name} in messages;
   * a length of -1 means to the file's end.
   */
  ReopenableJar(Path path, String name, long start, long length, Path resources) {
    this.path = path;
    this.name = name;
    this.start = start;
    this.length = length;
    this.resources = resources;
  }

  /** The file the jar lies in. */
  Path path() {
    return path;
  }

  /** What messages call the jar: its file, or its file and where in it. */
  String name() {
    return name;
  }

  private ZipSlice jar() throws IOException {
    if (file == null) {
      BasicFileAttributes now = Files.readAttributes(path, BasicFileAttributes.class);
      List<Object> seen = Arrays.asList(now.size(), now.lastModifiedTime(), now.fileKey());
      if (identity != null && !identity.equals(seen)) {
        throw new IOException(path + " changed on disk since this JVM first read it: restart the JVM to use"
            + " the agent that is there now");
      }
      RandomAccessFile opened = new RandomAccessFile(path.toFile(), "r");
      try {
        if (slice == null) {
          slice = ZipSlice.read(opened, start, length < 0 ? opened.length() - start : length);
          identity = seen;
        }
      } catch (IOException | RuntimeException e) {
        opened.close();
        throw new IOException(name + " is not a readable jar: " + e.getMessage(), e);
      }
      file = opened;
    }
    return slice;
  }

  /** The bytes of an entry, empty when there is none. */
  synchronized Optional<byte[]> read(String entryName) throws IOException {
    ZipSlice.Entry entry = jar().entry(entryName);
    if (entry == null || entry.isDirectory()) {
      return Optional.empty();
    }
    return Optional.of(slice.contents(file, entry));
  }

  /**
   * The bytes of an entry in a buffer of this jar's (position 0, limit its size), to be handed
   * back with {@link #release} once used; empty when there is none. The arrays are reused: the
   * agent's classes, read once each and copied by defineClass, leave no 2 MB of garbage behind.
   */
  synchronized Optional<ByteBuffer> readBuffer(String entryName) throws IOException {
    ZipSlice.Entry entry = jar().entry(entryName);
    if (entry == null || entry.isDirectory()) {
      return Optional.empty();
    }
    if (entry.size() > Integer.MAX_VALUE - 8) {
      throw new IOException(name + ": " + entryName + " is too large");
    }
    int size = (int) entry.size();
    byte[] array = spare.pollFirst();
    if (array == null || array.length < size) {
      array = new byte[Math.max(size, 16 * 1024)];
    }
    slice.contents(file, entry, array);
    return Optional.of(ByteBuffer.wrap(array, 0, size));
  }

  /** Hands back a buffer {@link #readBuffer} gave, for the next read to fill. */
  synchronized void release(ByteBuffer buffer) {
    if (buffer != null && buffer.hasArray() && spare.size() < SPARE_ARRAYS) {
      spare.addFirst(buffer.array());
    }
  }

  /** An entry as a file of its own (extracted on first request), empty when there is none. */
  synchronized Optional<Path> file(String entryName) throws IOException {
    Path target = resources.resolve(entryName).normalize();
    if (!target.startsWith(resources)) {
      return Optional.empty();
    }
    if (Files.isRegularFile(target)) {
      return Optional.of(target);
    }
    Optional<byte[]> bytes = read(entryName);
    if (bytes.isEmpty()) {
      return Optional.empty();
    }
    Files.createDirectories(target.getParent());
    // Not Files.createTempFile: its SecureRandom would open /dev/random in the application's JVM.
    Path partial = target.resolveSibling(target.getFileName() + ".part" + System.nanoTime());
    try {
      Files.write(partial, bytes.get());
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(partial);
    }
    return Optional.of(target);
  }

  /** The names of the jar's files (not its directories). */
  synchronized List<String> names() throws IOException {
    List<String> out = new ArrayList<>();
    for (ZipSlice.Entry entry : jar().entries()) {
      if (!entry.isDirectory()) {
        out.add(entry.name());
      }
    }
    return out;
  }

  /** The jar's manifest, null when it has none. */
  synchronized Manifest manifest() throws IOException {
    Optional<byte[]> bytes = read(JarFile.MANIFEST_NAME);
    return bytes.isEmpty() ? null : new Manifest(new ByteArrayInputStream(bytes.get()));
  }

  @Override
  public synchronized void close() {
    spare.clear();
    if (file != null) {
      try {
        file.close();
      } catch (IOException ignored) {
        // Read-only; nothing to lose.
      }
      file = null;
    }
  }
}
