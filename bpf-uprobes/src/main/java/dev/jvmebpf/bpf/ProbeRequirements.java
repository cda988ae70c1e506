package dev.jvmebpf.bpf;

import java.util.List;
import java.util.Map;

/**
 * What a probe family needs from the kernel and from this JVM's binaries, for the loader to say
 * "needs Linux X.Y" before trying, and for {@code doctor} to check without attaching anything.
 *
 * @param usdtProbes USDT probes in libjvm.so, as "provider:name"
 * @param libjvmSymbols symbols in libjvm.so: a readable name to the (mangled) symbol
 * @param libcFunctions functions of libc.so
 * @param kernel the oldest Linux whose BPF has everything the family's programs use
 * @param kernelFeatures what sets that minimum, with the version that brought each
 */
public record ProbeRequirements(List<String> usdtProbes, Map<String, String> libjvmSymbols,
    List<String> libcFunctions, KernelVersion kernel, String kernelFeatures) {

  /**
   * What every family's programs use: the span ring buffer (Linux 5.8), the pid namespace
   * helper (5.7), and atomic compare-and-exchange for histograms' min and max (5.12).
   */
  public static final KernelVersion COMMON_KERNEL = new KernelVersion(5, 12);
  public static final String COMMON_FEATURES = "BPF ring buffer 5.8, atomic compare-and-exchange 5.12";

  public ProbeRequirements {
    usdtProbes = List.copyOf(usdtProbes);
    libjvmSymbols = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(libjvmSymbols));
    libcFunctions = List.copyOf(libcFunctions);
  }

  public ProbeRequirements(List<String> usdtProbes, Map<String, String> libjvmSymbols, List<String> libcFunctions) {
    this(usdtProbes, libjvmSymbols, libcFunctions, COMMON_KERNEL, COMMON_FEATURES);
  }

  /** The same with a later minimum kernel. */
  public ProbeRequirements withKernel(KernelVersion minimum, String features) {
    return new ProbeRequirements(usdtProbes, libjvmSymbols, libcFunctions, minimum, features);
  }

  /** Throws "needs Linux X.Y or later (...); this kernel is ..." when the kernel of {@code release} is older. */
  public void requireKernel(String release) throws dev.jvmebpf.bpf.libbpf.BpfUnsupportedException {
    kernel.require(release, kernelFeatures);
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
