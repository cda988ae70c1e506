package dev.jvmebpf.bpf.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The pid read from /proc is the JDK's own (getpid); in a pid namespace of their own, the
 * families' exact-count tests (TargetJvm.in("pidns")) find their probes attached to it.
 */
class SelfPidTest {

  @Test
  void theSameAsTheJdksPid() throws Exception {
    assertEquals(ProcessHandle.current().pid(), JvmProcess.selfPid());
    assertEquals(ProcessHandle.current().pid(), JvmProcess.current().pid());
  }
}
