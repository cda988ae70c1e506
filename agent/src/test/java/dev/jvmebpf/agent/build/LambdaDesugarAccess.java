package dev.jvmebpf.agent.build;

import java.util.Set;

/** LambdaDesugar's redirect table, for tests outside its package. */
public final class LambdaDesugarAccess {

  private LambdaDesugarAccess() {}

  public static Set<String> redirected() {
    return LambdaDesugar.REDIRECTED;
  }
}
