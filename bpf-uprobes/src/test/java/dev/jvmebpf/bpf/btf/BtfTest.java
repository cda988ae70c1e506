package dev.jvmebpf.bpf.btf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.BpfTestSupport;
import dev.jvmebpf.bpf.libbpf.BpfObjectSpec;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Our BTF reader against bpftool's dump of the same objects: every named struct, every member. */
class BtfTest {

  @ParameterizedTest
  @ValueSource(strings = {"gc", "safepoint"})
  void structsMatchBpftool(String object) throws Exception {
    Path file = Files.createTempFile("jeb-btf-", ".bpf.o");
    try (InputStream in = BtfTest.class.getResourceAsStream("/dev/jvmebpf/bpf/programs/" + object + ".bpf.o")) {
      Files.write(file, in.readAllBytes());
      String dump = BpfTestSupport.toolOutput("bpftool", "btf", "dump", "file", file.toString());
      Btf btf = BpfObjectSpec.fromResource(object).btf();
      Matcher struct = Pattern.compile("^\\[\\d+\\] STRUCT '(\\w+)' size=(\\d+) vlen=(\\d+)$((?:\\n\\t.*)*)",
          Pattern.MULTILINE).matcher(dump);
      int checked = 0;
      while (struct.find()) {
        Btf.Struct ours = btf.struct(struct.group(1)).orElseThrow();
        assertEquals(Integer.parseInt(struct.group(2)), ours.size(), struct.group(1) + " size");
        Matcher member = Pattern.compile("'(\\w+)' type_id=\\d+ bits_offset=(\\d+)").matcher(struct.group(4));
        int i = 0;
        while (member.find()) {
          assertEquals(member.group(1), ours.members().get(i).name());
          assertEquals(Integer.parseInt(member.group(2)) / 8, ours.members().get(i).offset(),
              struct.group(1) + "." + member.group(1));
          i++;
        }
        assertEquals(Integer.parseInt(struct.group(3)), i, struct.group(1) + " members");
        checked++;
      }
      assertTrue(checked >= 5, "bpftool listed the object's structs");
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
