package dev.jvmebpf.agent.cli;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JvmTargetTest {

  /**
   * The exit helper keeps an exited JVM's command line and memory map while it holds the probes:
   * list must not show it as that JVM, attach must say what it is. A process of that name (a copy
   * of sleep) stands in for it.
   */
  @Test
  void theExitHelperIsNoJvm(@TempDir Path dir) throws Exception {
    Path helper = dir.resolve(JvmTarget.EXIT_HELPER);
    Files.copy(Path.of("/bin/sleep"), helper, StandardCopyOption.COPY_ATTRIBUTES);
    Process p = new ProcessBuilder(helper.toString(), "30").start();
    try {
      JvmTarget.Unusable e = assertThrows(JvmTarget.Unusable.class, () -> JvmTarget.inspect(p.pid()));
      assertTrue(e.getMessage().contains("exit helper"), e.getMessage());
      assertTrue(JvmTarget.all().stream().noneMatch(t -> t.pid() == p.pid()), "listed");
    } finally {
      p.destroy();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
