package dev.jvmebpf.bpf.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The OTEL_CTX mapping as the kernel shows it to another process: its name in /proc/self/maps and
 * its bytes read back through /proc/self/mem, the file a reader outside the process reads.
 */
class ProcessContextMappingTest {

  @Test
  void oneNamedMappingHoldsTheHeaderAndPayloadUntilClosed() throws Exception {
    Libbpf libbpf = BpfTestSupport.requireBpf();
    byte[] payload = "a payload of 31 bytes, not 32 .".getBytes(StandardCharsets.UTF_8);
    long publishedAt = 1_764_000_000_123_456_789L;
    ProcessContextMapping mapping = ProcessContextMapping.publish(libbpf, payload, publishedAt).orElseThrow();
    try {
      List<ProcessMaps.Mapping> named = contextMappings();
      assertEquals(1, named.size(), "one OTEL_CTX mapping: " + named);
      assertEquals(mapping.address(), named.get(0).start(), "the mapping begins with the header");
      assertTrue(named.get(0).permissions().startsWith("rw"), named.get(0).toString());

      byte[] header = read(mapping.address(), 32);
      java.nio.ByteBuffer h = java.nio.ByteBuffer.wrap(header).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      assertEquals("OTEL_CTX", new String(header, 0, 8, StandardCharsets.US_ASCII), "signature");
      assertEquals(2, h.getInt(8), "version");
      assertEquals(payload.length, h.getInt(12), "payload size");
      assertEquals(publishedAt, h.getLong(16), "published_at_ns");
      long payloadAddress = h.getLong(24);
      assertArrayEquals(payload, read(payloadAddress, payload.length), "the payload where the header points");

      // A singleton per process: a second publisher (another library, or us again) publishes nothing.
      Optional<ProcessContextMapping> second = ProcessContextMapping.publish(libbpf, payload, publishedAt);
      assertTrue(second.isEmpty(), "a second context beside the first");
    } finally {
      mapping.close();
      mapping.close(); // idempotent
    }
    assertEquals(List.of(), contextMappings(), "closed: no OTEL_CTX mapping left");
  }

  private static List<ProcessMaps.Mapping> contextMappings() throws IOException {
    return ProcessMaps.self().mappings().stream()
        .filter(m -> java.util.Arrays.stream(ProcessContextMapping.NAMES).anyMatch(m.path()::startsWith)).toList();
  }

  private static byte[] read(long address, int length) throws IOException {
    try (var mem = java.nio.channels.FileChannel.open(Path.of("/proc/self/mem"))) {
      java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(length);
      while (buffer.hasRemaining()) {
        if (mem.read(buffer, address + buffer.position()) < 0) {
          break;
        }
      }
      return buffer.array();
    }
  }
}
