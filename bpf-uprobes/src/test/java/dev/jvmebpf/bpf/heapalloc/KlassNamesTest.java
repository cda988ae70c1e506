package dev.jvmebpf.bpf.heapalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Internal class names against the names java.lang.Class gives the same classes. */
class KlassNamesTest {

  static Object[][] classes() {
    return new Object[][] {
        {byte[].class}, {long[][].class}, {boolean[].class}, {String.class}, {String[].class},
        {java.util.Map.Entry[][].class}, {Thread.State.class}, {int.class},
    };
  }

  @ParameterizedTest
  @MethodSource("classes")
  void javaNameIsWhatJavaCallsTheClass(Class<?> c) {
    // Class.getName is the internal name with dots for slashes, arrays included.
    String internal = c.getName().replace('.', '/');
    assertEquals(c.getTypeName(), KlassNames.javaName(internal));
  }

  @ParameterizedTest
  @MethodSource("hidden")
  void hiddenClassesKeepTheirSuffix(String internal, String expected) {
    assertEquals(expected, KlassNames.javaName(internal));
  }

  static Object[][] hidden() {
    return new Object[][] {
        {"com/example/App$$Lambda$14/0x0000000800c03000", "com.example.App$$Lambda$14/0x0000000800c03000"},
        {"[Lcom/example/App$$Lambda/0x0000000800c03000;", "com.example.App$$Lambda/0x0000000800c03000[]"},
    };
  }
}
