package dev.jvmebpf.bpf.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** Entries are read for the types asked and no others, the same whichever other types are asked with them. */
class VmStructsTest {

  @Test
  void onlyTheTypesAskedForAreRead() throws Exception {
    JvmProcess jvm = JvmProcess.current();
    VmStructs klass = VmStructs.of(jvm, Set.of("Klass"));
    VmStructs both = VmStructs.of(jvm, Set.of("Klass", "Symbol"));
    assertTrue(klass.field("Klass", "_name").isPresent());
    assertTrue(klass.field("Symbol", "_length").isEmpty(), "Symbol was not asked for");
    assertTrue(klass.field("Klass", "_nam").isEmpty());
    assertEquals(klass.field("Klass", "_name"), both.field("Klass", "_name"));
    assertTrue(both.field("Symbol", "_length").isPresent() && both.field("Symbol", "_body").isPresent());
    assertTrue(klass.size() > 1 && both.size() > klass.size(), klass.size() + " " + both.size());
    assertTrue(VmStructs.of(jvm, Set.of("KlassX")).size() == 0, "a name's extension is another name");
  }
}
