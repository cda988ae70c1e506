package dev.jvmebpf.bpf;

import java.util.List;
import java.util.Map;

/**
 * What a probe family needs from this JVM's binaries, for {@code doctor} to check without
 * attaching anything.
 *
 * @param usdtProbes USDT probes in libjvm.so, as "provider:name"
 * @param libjvmSymbols symbols in libjvm.so: a readable name to the (mangled) symbol
 * @param libcFunctions functions of libc.so
 */
public record ProbeRequirements(List<String> usdtProbes, Map<String, String> libjvmSymbols,
    List<String> libcFunctions) {

  public ProbeRequirements {
    usdtProbes = List.copyOf(usdtProbes);
    libjvmSymbols = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(libjvmSymbols));
    libcFunctions = List.copyOf(libcFunctions);
  }

  public static ProbeRequirements usdt(String... probes) {
    return new ProbeRequirements(List.of(probes), Map.of(), List.of());
  }

  /** Readable names and their symbols, alternating, in the order doctor lists them. */
  public static Map<String, String> symbols(String... nameThenSymbol) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < nameThenSymbol.length; i += 2) {
      out.put(nameThenSymbol[i], nameThenSymbol[i + 1]);
    }
    return out;
  }

  public static ProbeRequirements libc(List<String> functions) {
    return new ProbeRequirements(List.of(), Map.of(), functions);
  }
}
