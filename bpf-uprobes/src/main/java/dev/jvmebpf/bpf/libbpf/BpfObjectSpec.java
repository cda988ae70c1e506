package dev.jvmebpf.bpf.libbpf;

import dev.jvmebpf.bpf.btf.Btf;
import dev.jvmebpf.bpf.elf.ElfFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * A compiled BPF object as the build produced it: its bytes, ELF sections and BTF. Deterministic,
 * no system calls, no privileges; {@link BpfObject#open} turns it into a live object.
 */
public final class BpfObjectSpec {

  static final String RESOURCE_DIR = "/dev/jvmebpf/bpf/programs/";

  private final String name;
  private final byte[] bytes;
  private final ElfFile elf;
  private final Btf btf;

  private BpfObjectSpec(String name, byte[] bytes) throws IOException {
    this.name = name;
    this.bytes = bytes;
    this.elf = ElfFile.of(name + ".bpf.o", bytes);
    this.btf = Btf.of(elf);
  }

  /** The object {@code <name>.bpf.o} that the build compiled into this module's resources. */
  public static BpfObjectSpec fromResource(String name) throws IOException {
    return fromResource(BpfObjectSpec.class, name);
  }

  /** Same, from the resources visible to {@code anchor} (tests keep their objects apart). */
  public static BpfObjectSpec fromResource(Class<?> anchor, String name) throws IOException {
    String resource = RESOURCE_DIR + name + ".bpf.o";
    // Through the class loader, not the class: for a named module's class, Class.getResourceAsStream
    // asks its loader for a URL, which the agent's loader can give only by writing the object to a
    // file (five objects at each start); the loader itself serves our resources from its jar's bytes.
    ClassLoader loader = anchor.getClassLoader();
    try (InputStream in = loader != null ? loader.getResourceAsStream(resource.substring(1))
        : anchor.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("BPF object " + resource + " is missing from the class path");
      }
      return new BpfObjectSpec(name, in.readAllBytes());
    }
  }

  public String name() {
    return name;
  }

  public Btf btf() {
    return btf;
  }

  byte[] bytes() {
    return bytes;
  }

  /**
   * The object's whole .rodata image with one {@code const volatile} variable replaced:
   * libbpf sets .rodata as a unit, so the other variables keep their compiled values. The
   * variable's place comes from the ELF symbol table, its size must match {@code value}.
   */
  public byte[] rodataWith(String variable, byte[] value) throws IOException {
    ElfFile.Section rodata = elf.section(".rodata")
        .orElseThrow(() -> new IOException(name + ": no .rodata section"));
    ElfFile.Symbol symbol = elf.symbol(variable)
        .orElseThrow(() -> new IOException(name + ": no variable " + variable));
    if (!elf.sections().get(symbol.section()).name().equals(".rodata")) {
      throw new IOException(name + ": " + variable + " is not in .rodata");
    }
    if (symbol.size() != value.length) {
      throw new IOException(name + ": " + variable + " is " + symbol.size() + " bytes, the Java mirror has "
          + value.length);
    }
    ByteBuffer contents = elf.contents(rodata);
    byte[] image = new byte[contents.remaining()];
    contents.get(image);
    System.arraycopy(value, 0, image, (int) symbol.value(), value.length);
    return image;
  }
}
