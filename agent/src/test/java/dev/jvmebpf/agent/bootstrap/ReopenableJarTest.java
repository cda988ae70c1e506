package dev.jvmebpf.agent.bootstrap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Jars read in place inside another file, checked against the JDK's own JarFile on a copy. */
class ReopenableJarTest {

  @TempDir
  Path tmp;

  /** An inner jar with stored and deflated entries, directories and a manifest. */
  private static byte[] innerJar() throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().putValue("Automatic-Module-Name", "dev.example.inner");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Random random = new Random(7);
    try (JarOutputStream out = new JarOutputStream(bytes, manifest)) {
      out.putNextEntry(new JarEntry("dev/example/"));
      out.closeEntry();
      for (int i = 0; i < 20; i++) {
        byte[] data = new byte[random.nextInt(5000)];
        random.nextBytes(data);
        if (i % 3 == 0) {
          data = ("text " + i + " ").repeat(200).getBytes(StandardCharsets.UTF_8); // deflates well
        }
        out.putNextEntry(i % 2 == 0 ? stored("dev/example/E" + i + ".class", data) : new JarEntry("dev/example/é" + i));
        out.write(data);
        out.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  private static JarEntry stored(String name, byte[] data) {
    JarEntry e = new JarEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(data.length);
    CRC32 crc = new CRC32();
    crc.update(data);
    e.setCrc(crc.getValue());
    return e;
  }

  /** The outer file: a deflated entry, the inner jar stored, a comment; returns the inner jar's range. */
  private static long[] writeOuter(Path outer, byte[] inner) throws IOException {
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(outer))) {
      out.putNextEntry(new JarEntry("before.txt"));
      out.write("x".repeat(3000).getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
      out.putNextEntry(stored("inst/inner.jar", inner));
      out.write(inner);
      out.closeEntry();
      out.setComment("a comment after the directory");
    }
    try (RandomAccessFile file = new RandomAccessFile(outer.toFile(), "r")) {
      ZipSlice slice = ZipSlice.read(file, 0, file.length());
      ZipSlice.Entry entry = slice.entry("inst/inner.jar");
      assertEquals(ZipSlice.STORED, entry.method());
      return new long[] {slice.dataPosition(file, entry), entry.size()};
    }
  }

  @Test
  void aNestedJarReadsAsTheJdkReadsItsCopy() throws IOException {
    byte[] inner = innerJar();
    Path outer = tmp.resolve("outer.jar");
    long[] range = writeOuter(outer, inner);
    Path copy = Files.write(tmp.resolve("copy.jar"), inner);

    try (JarFile oracle = new JarFile(copy.toFile());
        ReopenableJar jar = new ReopenableJar(outer, "outer.jar!/inst/inner.jar", range[0], range[1], tmp.resolve("res"))) {
      List<String> expected = new ArrayList<>();
      for (JarEntry e : Collections.list(oracle.entries())) {
        if (!e.isDirectory()) {
          expected.add(e.getName());
          byte[] expectedBytes = oracle.getInputStream(e).readAllBytes();
          assertArrayEquals(expectedBytes, jar.read(e.getName()).orElseThrow(), e.getName());
          java.nio.ByteBuffer buffer = jar.readBuffer(e.getName()).orElseThrow();
          byte[] viaBuffer = new byte[buffer.remaining()];
          buffer.duplicate().get(viaBuffer);
          assertArrayEquals(expectedBytes, viaBuffer, e.getName());
          jar.release(buffer);
          java.nio.ByteBuffer again = jar.readBuffer(e.getName()).orElseThrow();
          assertTrue(again.array() == buffer.array(), "a released array is filled again");
          jar.release(again);
        }
      }
      List<String> names = new ArrayList<>(jar.names());
      Collections.sort(names);
      Collections.sort(expected);
      assertEquals(expected, names);
      assertEquals(21, names.size(), "20 entries and the manifest");
      assertEquals(oracle.getManifest(), jar.manifest());
      assertTrue(jar.read("dev/example/").isEmpty(), "a directory is no entry to read");
      assertTrue(jar.read("dev/example/none").isEmpty());

      jar.close();
      assertArrayEquals(oracle.getInputStream(oracle.getJarEntry("dev/example/é1")).readAllBytes(),
          jar.read("dev/example/é1").orElseThrow(), "read again after close");

      Path file = jar.file("dev/example/E2.class").orElseThrow();
      assertArrayEquals(oracle.getInputStream(oracle.getJarEntry("dev/example/E2.class")).readAllBytes(),
          Files.readAllBytes(file));
      assertTrue(file.startsWith(tmp.resolve("res")));
    }
  }

  @Test
  void aFileChangedOnDiskAfterTheFirstReadIsRefusedByName() throws IOException {
    Path outer = tmp.resolve("outer.jar");
    long[] range = writeOuter(outer, innerJar());
    try (ReopenableJar jar = new ReopenableJar(outer, "outer.jar!/inst/inner.jar", range[0], range[1], tmp.resolve("res"))) {
      assertTrue(jar.read("dev/example/E0.class").isPresent());
      jar.close();
      Files.write(outer, Files.readAllBytes(outer), java.nio.file.StandardOpenOption.APPEND);
      Files.setLastModifiedTime(outer, FileTime.fromMillis(Files.getLastModifiedTime(outer).toMillis() + 5000));
      IOException e = assertThrows(IOException.class, () -> jar.read("dev/example/E0.class"));
      assertTrue(e.getMessage().contains(outer.toString()) && e.getMessage().contains("changed on disk"), e.getMessage());
    }
  }

  @Test
  void aRangeThatHoldsNoJarIsRefusedByName() throws IOException {
    Path outer = tmp.resolve("outer.jar");
    long[] range = writeOuter(outer, innerJar());
    try (ReopenableJar jar = new ReopenableJar(outer, "outer.jar!/bad", range[0] + 1, range[1] - 1, tmp.resolve("res"))) {
      IOException e = assertThrows(IOException.class, jar::names);
      assertTrue(e.getMessage().startsWith("outer.jar!/bad is not a readable jar"), e.getMessage());
    }
  }

  /**
   * Entries whose local header carries a longer extra field than the directory says (as zip
   * aligners write): their data is still found where the local header puts it, stored or
   * deflated, as the JDK's ZipFile finds it.
   */
  @Test
  void aLocalHeaderLongerThanTheDirectorysIsFollowed() throws IOException {
    byte[] text = "stored and deflated alike ".repeat(300).getBytes(StandardCharsets.UTF_8);
    Path zip = tmp.resolve("padded.zip");
    Files.write(zip, zipWithLocalPadding(text));
    try (java.util.zip.ZipFile oracle = new java.util.zip.ZipFile(zip.toFile());
        RandomAccessFile file = new RandomAccessFile(zip.toFile(), "r")) {
      ZipSlice slice = ZipSlice.read(file, 0, file.length());
      for (String name : List.of("a/Stored.class", "a/Deflated.class")) {
        byte[] expected = oracle.getInputStream(oracle.getEntry(name)).readAllBytes();
        assertArrayEquals(text, expected, "the oracle reads " + name);
        assertArrayEquals(expected, slice.contents(file, slice.entry(name)), name);
      }
    }
  }

  /** A zip of two entries, each with 40 bytes of extra field in its local header and none in the directory. */
  private static byte[] zipWithLocalPadding(byte[] data) throws IOException {
    java.util.zip.Deflater deflater = new java.util.zip.Deflater(java.util.zip.Deflater.DEFAULT_COMPRESSION, true);
    deflater.setInput(data);
    deflater.finish();
    byte[] buffer = new byte[data.length + 64];
    int deflatedLength = deflater.deflate(buffer);
    deflater.end();
    byte[] deflated = java.util.Arrays.copyOf(buffer, deflatedLength);
    CRC32 crc = new CRC32();
    crc.update(data);
    java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(4096 + 2 * data.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    java.nio.ByteBuffer central = java.nio.ByteBuffer.allocate(512).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    byte[] extra = new byte[40];
    extra[0] = 0x65; // an unknown header id 0x6a65, 36 bytes of zeros
    extra[1] = 0x6a;
    extra[2] = 36;
    String[] names = {"a/Stored.class", "a/Deflated.class"};
    for (int k = 0; k < 2; k++) {
      byte[] name = names[k].getBytes(StandardCharsets.UTF_8);
      byte[] body = k == 0 ? data : deflated;
      int method = k == 0 ? ZipEntry.STORED : ZipEntry.DEFLATED;
      int offset = out.position();
      out.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) method).putInt(0)
          .putInt((int) crc.getValue()).putInt(body.length).putInt(data.length)
          .putShort((short) name.length).putShort((short) extra.length).put(name).put(extra).put(body);
      central.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0).putShort((short) method)
          .putInt(0).putInt((int) crc.getValue()).putInt(body.length).putInt(data.length)
          .putShort((short) name.length).putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0)
          .putInt(0).putInt(offset).put(name);
    }
    int directoryOffset = out.position();
    out.put(central.array(), 0, central.position());
    out.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) 2).putShort((short) 2)
        .putInt(central.position()).putInt(directoryOffset).putShort((short) 0);
    return java.util.Arrays.copyOf(out.array(), out.position());
  }
}
