package dev.jvmebpf.agent.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which private directories a starting agent removes: only those of JVMs that are gone, told by
 * the lock each live JVM holds on its directory's lock file, not by pids (which mean nothing
 * across pid namespaces: two containers sharing /tmp deleted each other's live directories). The
 * other JVM is a real second process holding or testing the lock ({@link LockProbe}).
 */
class StaleDirectoryTest {

  @TempDir
  Path tmp;

  @Test
  void aDirectoryWhoseLockAnotherProcessHoldsStays() throws Exception {
    // Named after a pid that no process has here (as another namespace's would look).
    Path live = Files.createDirectory(tmp.resolve(IsolatedRuntime.DIR_PREFIX + "999999999-live"));
    Path lockFile = Files.createFile(live.resolve(IsolatedRuntime.LOCK_FILE));
    Process holder = probe("hold", lockFile);
    try (BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))) {
      assertEquals("HELD", out.readLine());
      IsolatedRuntime.removeStale(tmp);
      assertTrue(Files.isDirectory(live), "a live JVM's directory is kept, whatever its pid says");
    } finally {
      holder.getOutputStream().close();
      holder.waitFor();
    }
    IsolatedRuntime.removeStale(tmp);
    assertFalse(Files.exists(live), "once its JVM is gone (the lock dropped), it is removed");
  }

  @Test
  void aDirectoryWithoutLockFileIsKeptUnlessOld() throws Exception {
    Path young = Files.createDirectory(tmp.resolve(IsolatedRuntime.DIR_PREFIX + "1-young"));
    Path old = Files.createDirectory(tmp.resolve(IsolatedRuntime.DIR_PREFIX + "1-old"));
    Files.setLastModifiedTime(old, FileTime.from(Instant.now().minusMillis(2 * IsolatedRuntime.UNLOCKED_GRACE_MILLIS)));
    IsolatedRuntime.removeStale(tmp);
    assertTrue(Files.isDirectory(young), "being made by a JVM that locks it a moment later");
    assertFalse(Files.exists(old), "an old one without lock: an earlier agent's, gone");
  }

  @Test
  void ourOwnDirectoryStaysLockedThroughALookAtTheOthers() throws Exception {
    String tmpdir = System.getProperty("java.io.tmpdir");
    System.setProperty("java.io.tmpdir", tmp.toString());
    Path ours;
    try {
      ours = IsolatedRuntime.privateDirectory();
      IsolatedRuntime.removeStale(tmp);
    } finally {
      System.setProperty("java.io.tmpdir", tmpdir);
    }
    try {
      assertTrue(Files.isDirectory(ours));
      Process tester = probe("try", ours.resolve(IsolatedRuntime.LOCK_FILE));
      String answer = new String(tester.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      tester.waitFor();
      assertEquals("TAKEN", answer, "another process cannot take our directory's lock");
    } finally {
      IsolatedRuntime.deleteQuietly(ours);
    }
    assertFalse(Files.exists(ours));
  }

  private static Process probe(String what, Path lockFile) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), LockProbe.class.getName(), what,
        lockFile.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }
}
