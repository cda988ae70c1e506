package dev.jvmebpf.bpf.dns;

import dev.jvmebpf.bpf.events.KernelEvent;
import dev.jvmebpf.bpf.events.SpanParent;

/**
 * One slow or failed getaddrinfo call, from the span ring buffer.
 *
 * @param name the name asked for (its first 64 bytes, then "…")
 * @param errorType the EAI_* name of a failure; null when the lookup succeeded
 * @param parent the application span current on the calling thread; null for none
 */
public record DnsEvent(String name, String errorType, long startNanos, long endNanos, int tid, SpanParent parent)
    implements KernelEvent {

  @Override
  public String family() {
    return "dns";
  }
}
