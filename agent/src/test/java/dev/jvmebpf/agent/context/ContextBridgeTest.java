package dev.jvmebpf.agent.context;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.jvmebpf.bpf.events.ThreadContextWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The mount hooks of the bridge template, run on this (platform) thread with plain thread-locals
 * standing in for the carrier's and the virtual thread's: what a mount leaves in the carrier's
 * record, byte for byte, in the layout of our writer's records.
 */
class ContextBridgeTest {

  static final byte[] TRACE = HexFormat.of().parseHex("0af7651916cd43dd8448eb211c80319c");
  static final byte[] SPAN = HexFormat.of().parseHex("b7ad6b7169203331");

  @AfterEach
  void off() {
    ContextBridge.virtualThreads(null, null, null);
  }

  @Test
  void theRecordLayoutIsTheWritersOne() {
    assertEquals(ThreadContextWriter.TRACE_ID, ContextBridge.TRACE_ID);
    assertEquals(ThreadContextWriter.SPAN_ID, ContextBridge.SPAN_ID);
    assertEquals(ThreadContextWriter.VALID, ContextBridge.VALID);
    assertEquals(ThreadContextWriter.TRACE_FLAGS, ContextBridge.TRACE_FLAGS);
  }

  @Test
  void aMountShowsTheMountedContextAndAnUnmountNone() {
    ThreadLocal<ByteBuffer> records = new ThreadLocal<>();
    ThreadLocal<ByteBuffer> shadows = new ThreadLocal<>();
    ByteBuffer record = ByteBuffer.allocateDirect(ThreadContextWriter.RECORD_BYTES).order(ByteOrder.nativeOrder());
    int[] binds = {0};
    ContextBridge.virtualThreads(records, shadows, () -> {
      binds[0]++;
      records.set(record);
    });

    ContextBridge.beforeMount();
    ContextBridge.beforeMount();
    assertEquals(1, binds[0], "the carrier's record is bound once");
    assertSame(record, records.get());

    ContextBridge.mounted(); // a virtual thread that never published
    assertEquals(0, record.get(ThreadContextWriter.VALID));

    ByteBuffer shadow = ByteBuffer.allocate(ThreadContextWriter.RECORD_BYTES).order(ByteOrder.nativeOrder());
    shadow.put(ThreadContextWriter.TRACE_ID, TRACE).put(ThreadContextWriter.SPAN_ID, SPAN)
        .put(ThreadContextWriter.TRACE_FLAGS, (byte) 1).put(ThreadContextWriter.VALID, (byte) 1);
    shadows.set(shadow);
    ContextBridge.mounted();
    assertEquals(1, record.get(ThreadContextWriter.VALID));
    assertArrayEquals(TRACE, bytes(record, ThreadContextWriter.TRACE_ID, 16));
    assertArrayEquals(SPAN, bytes(record, ThreadContextWriter.SPAN_ID, 8));
    assertEquals(1, record.get(ThreadContextWriter.TRACE_FLAGS));

    ContextBridge.unmounting();
    assertEquals(0, record.get(ThreadContextWriter.VALID), "unmounted: no context");

    shadow.put(ThreadContextWriter.VALID, (byte) 0); // its scope closed
    ContextBridge.mounted();
    assertEquals(0, record.get(ThreadContextWriter.VALID));

    shadow.put(ThreadContextWriter.VALID, (byte) 1);
    ContextBridge.virtualThreads(null, null, null);
    ContextBridge.mounted();
    assertEquals(0, record.get(ThreadContextWriter.VALID), "off: mounts leave the record alone");
  }

  @Test
  void aBinderThatFailsIsNotCalledAgain() {
    ThreadLocal<ByteBuffer> records = new ThreadLocal<>();
    int[] binds = {0};
    ContextBridge.virtualThreads(records, new ThreadLocal<>(), () -> {
      binds[0]++;
      throw new IllegalStateException("no library");
    });
    ContextBridge.beforeMount();
    ContextBridge.beforeMount();
    ContextBridge.mounted();
    ContextBridge.unmounting();
    assertEquals(1, binds[0]);
  }

  private static byte[] bytes(ByteBuffer record, int at, int length) {
    byte[] out = new byte[length];
    record.get(at, out);
    return out;
  }
}
