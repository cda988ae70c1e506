package dev.jvmebpf.bpf.dns;

import dev.jvmebpf.bpf.events.KernelEvent;

/**
 * One slow or failed getaddrinfo call, from the span ring buffer.
 *
 * @param name the name asked for (its first 64 bytes, then "…")
 * @param errorType the EAI_* name of a failure; null when the lookup succeeded
 */
public record DnsEvent(String name, String errorType, long startNanos, long endNanos, int tid)
    implements KernelEvent {

  @Override
  public String family() {
    return "dns";
  }
}
