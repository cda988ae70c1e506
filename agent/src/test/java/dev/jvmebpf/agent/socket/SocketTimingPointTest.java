package dev.jvmebpf.agent.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.hist.HistogramLayout;
import dev.jvmebpf.bpf.hist.HistogramSnapshot;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.util.CheckClassAdapter;

/** The timing point's arithmetic against the kernel's bucket search, and the rewrite of this JDK's classes. */
class SocketTimingPointTest {

  @Test
  void valuesLandInTheBucketsTheKernelWouldChoose() {
    HistogramLayout layout = HistogramLayout.nanosecondsAsSeconds(3);
    long[] table = JdkSocketTiming.table(layout);
    AtomicLongArray h = new AtomicLongArray(4 + table.length);
    long[] expected = new long[layout.bucketCount()];
    Random random = new Random(42);
    long sum = 0;
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int i = 0; i < 20_000; i++) {
      long v = i < 10 ? new long[] {1, 2, 3, 1000, 1001, 999_999_999, 1_000_000_000, 1_000_000_001, Long.MAX_VALUE / 2,
          (1L << 48)}[i] : (long) Math.pow(10, random.nextDouble() * 12);
      SocketTimingPoint.add(h, 0, v, table);
      expected[layout.bucketOf(v)]++;
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    SocketTimingPoint.add(h, 0, 0, table);
    HistogramSnapshot read = JdkSocketTiming.read(h, 0, layout);
    assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(read.bucketCounts()));
    assertEquals(1, read.zeroCount());
    assertEquals(sum, read.sum());
    assertEquals(0, read.min(), "a zero was recorded");
    assertEquals(max, read.max());
    assertEquals(min, h.get(1), "least value above zero");
  }

  @Test
  void peersGetTheirOwnSeriesUpToTheLimitThenOther() throws Exception {
    HistogramLayout layout = HistogramLayout.nanosecondsAsSeconds(3);
    SocketTimingPoint.configure(JdkSocketTiming.table(layout), JdkSocketTiming.table(HistogramLayout.create(3, 1)), 3);
    InetAddress a = InetAddress.getByName("10.0.0.1");
    InetAddress b = InetAddress.getByName("::1");
    int first = SocketTimingPoint.slot(a, 80, false);
    assertEquals(first, SocketTimingPoint.slot(InetAddress.getByName("10.0.0.1"), 80, false), "found again");
    int second = SocketTimingPoint.slot(a, 81, false);
    int third = SocketTimingPoint.slot(b, 80, false);
    int other = SocketTimingPoint.slot(b, 81, false);
    assertEquals(3, java.util.Set.of(first, second, third).size());
    assertTrue(SocketTimingPoint.other(other));
    assertEquals(other, SocketTimingPoint.slot(null, 0, true), "beyond the limit: other");
    assertEquals(third, SocketTimingPoint.slot(b, 80, false));
    assertEquals(4, SocketTimingPoint.count());
  }

  @Test
  void thisJdksSocketClassesAreRewrittenIntoValidClasses() throws Exception {
    SocketTimingTransformer transformer = new SocketTimingTransformer(JdkSocketTiming.POINT);
    for (String name : SocketTimingTransformer.CLASSES) {
      byte[] original;
      try (InputStream in = Object.class.getResourceAsStream("/" + name + ".class")) {
        original = in.readAllBytes();
      }
      byte[] rewritten = transformer.rewrite(name, original);
      assertNotNull(rewritten, name + ": nothing to rewrite in this JDK (" + Runtime.version() + ")");
      StringWriter problems = new StringWriter();
      CheckClassAdapter.verify(new ClassReader(rewritten), ClassLoader.getPlatformClassLoader(), false,
          new PrintWriter(problems));
      assertEquals("", problems.toString(), name + " verifies");
    }
  }

  /**
   * A socket channel class whose methods have the shapes but not the fields the added code reads
   * (another JDK's layout): left as it was, with why (install then refuses it: libc is probed
   * instead), rather than a class that would throw NoSuchFieldError in the application's first call.
   */
  @Test
  void aClassWithoutTheFieldsIsLeftAsItWasAndSaysWhy() {
    ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS | ClassWriter.COMPUTE_FRAMES);
    cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC, SocketTimingTransformer.CHANNEL, null, "java/lang/Object", null);
    cw.visitField(Opcodes.ACC_PRIVATE, "localAddress", "Ljava/net/SocketAddress;", null, null).visitEnd();
    MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC, "write", "(Ljava/nio/ByteBuffer;)I", null, null);
    mv.visitCode();
    mv.visitInsn(Opcodes.ICONST_0);
    mv.visitInsn(Opcodes.IRETURN);
    mv.visitMaxs(0, 0);
    mv.visitEnd();
    cw.visitEnd();
    byte[] bytes = cw.toByteArray();

    SocketTimingTransformer transformer = new SocketTimingTransformer(JdkSocketTiming.POINT);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> transformer.rewrite(SocketTimingTransformer.CHANNEL, bytes));
    assertTrue(e.getMessage().contains("has no field remoteAddress:Ljava/net/SocketAddress;"), e.getMessage());

    // Through the JVM's hook: left as it was, and why, for install's refusal (then libc is probed).
    assertNull(transformer.transform(null, null, SocketTimingTransformer.CHANNEL, null, null, bytes));
    assertTrue(transformer.failures.get(SocketTimingTransformer.CHANNEL).contains("has no field remoteAddress"),
        transformer.failures.toString());
    assertTrue(transformer.rewritten.isEmpty());
    // Classes of other loaders, and other classes, are not looked at.
    assertNull(transformer.transform(null, ClassLoader.getSystemClassLoader(), SocketTimingTransformer.CHANNEL,
        null, null, bytes));
    assertNull(transformer.transform(null, null, "java/lang/String", null, null, bytes));
    assertEquals(1, transformer.failures.size(), transformer.failures.toString());
  }
}
