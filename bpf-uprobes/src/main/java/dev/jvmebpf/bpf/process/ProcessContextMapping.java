package dev.jvmebpf.bpf.process;

import dev.jvmebpf.bpf.libbpf.BpfException;
import dev.jvmebpf.bpf.libbpf.Libbpf;
import java.io.IOException;
import java.util.Optional;

/**
 * The process context this process publishes for readers outside it (OpenTelemetry's OTEP 4719,
 * such as the OpenTelemetry eBPF profiler): one mapping, {@code /memfd:OTEL_CTX}, holding the
 * versioned header and an encoded {@code ProcessContext} message. The context is a singleton per
 * process: {@link #publish} publishes nothing when another library (the application's own SDK,
 * another agent) already has. {@link #close} removes the mapping; idempotent, thread-safe.
 */
public final class ProcessContextMapping implements AutoCloseable {

  /** How the OTEP's readers recognise the mapping in /proc/&lt;pid&gt;/maps. */
  static final String[] NAMES = {"/memfd:OTEL_CTX", "[anon_shmem:OTEL_CTX]", "[anon:OTEL_CTX]"};

  private final Libbpf libbpf;
  private final long address;
  private final long length;
  private boolean closed; // guarded by this

  private ProcessContextMapping(Libbpf libbpf, long address, long length) {
    this.libbpf = libbpf;
    this.address = address;
    this.length = length;
  }

  /**
   * Publishes {@code payload} (an encoded opentelemetry.proto.processcontext ProcessContext) as
   * this process's context, stamped {@code publishedAtNanos} (epoch nanoseconds, not 0).
   *
   * @return the mapping, or empty when another publisher's is already there
   * @throws BpfException when the kernel refuses the mapping
   * @throws IOException when /proc/self/maps cannot be read
   */
  public static Optional<ProcessContextMapping> publish(Libbpf libbpf, byte[] payload, long publishedAtNanos)
      throws BpfException, IOException {
    if (publishedIn(ProcessMaps.self())) {
      return Optional.empty();
    }
    long[] mapped = libbpf.publishProcessContext(payload, publishedAtNanos);
    return Optional.of(new ProcessContextMapping(libbpf, mapped[0], mapped[1]));
  }

  /** Whether a process context mapping is among {@code maps}. */
  static boolean publishedIn(ProcessMaps maps) {
    for (ProcessMaps.Mapping m : maps.mappings()) {
      for (String name : NAMES) {
        if (m.path().startsWith(name)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The mapping's address in this process. */
  public long address() {
    return address;
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      libbpf.dropProcessContext(address, length);
    }
  }
}
