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
}
