package dev.jvmebpf.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.bpf.FamilySnapshot;
import dev.jvmebpf.bpf.libbpf.BpfException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One family's failure, whatever it throws, switches off that family alone. */
class ProbeLoaderTest {

  @Test
  void anUnexpectedExceptionSwitchesOffItsFamilyAlone() {
    List<String> tried = new ArrayList<>();
    List<ProbeFamilies.Family<?>> families = List.of(
        failing("first", tried, new IllegalStateException("a bug")),
        failing("second", tried, new NoClassDefFoundError("missing/Class")),
        failing("third", tried, new BpfException("load BPF object third: EINVAL", 22)),
        failing("disabled", tried, new IllegalStateException("never attached")));
    AgentConfig config = new AgentConfig(
        Map.of("probes.first", "true", "probes.second", "true", "probes.third", "true", "probes.disabled", "false"),
        Map.of(), Map.of());
    List<String> on = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    List<ProbeLoader.Start> starts = new ArrayList<>();

    boolean completed = ProbeLoader.attachEach(families, config, null,
        new AgentLog(new PrintStream(new ByteArrayOutputStream()), false), starts, c -> true, on, problems);

    assertTrue(completed);
    assertEquals(List.of("first", "second", "third"), tried, "every enabled family was tried, in order");
    assertEquals(List.of(), on);
    assertEquals(List.of(), starts, "no family to start");
    assertEquals(List.of("first off: internal error: java.lang.IllegalStateException: a bug",
        "second off: internal error: java.lang.NoClassDefFoundError: missing/Class",
        "third off: load BPF object third: EINVAL"), problems);
  }

  private static ProbeFamilies.Family<FamilySnapshot> failing(String name, List<String> tried, Throwable failure) {
    return new ProbeFamilies.Family<>(name, true, name, null, context -> {
      tried.add(name);
      if (failure instanceof BpfException b) {
        throw b;
      }
      if (failure instanceof RuntimeException r) {
        throw r;
      }
      throw (Error) failure;
    }, (snapshot, context) -> List.of());
  }
}
