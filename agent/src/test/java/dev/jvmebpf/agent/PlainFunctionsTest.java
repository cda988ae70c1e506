package dev.jvmebpf.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmebpf.agent.build.LambdaDesugarAccess;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.Type;

/** PlainFunctions against the JDK methods the build redirects to it. */
class PlainFunctionsTest {

  @Test
  void hasACopyOfEachRedirectedMethod() throws Exception {
    for (String redirected : LambdaDesugarAccess.redirected()) {
      String jdkClass = redirected.substring(0, redirected.indexOf('.')).replace('/', '.');
      String name = redirected.substring(redirected.indexOf('.') + 1, redirected.indexOf('('));
      String desc = redirected.substring(redirected.indexOf('('));
      Method ours = null;
      for (Method m : PlainFunctions.class.getMethods()) {
        if (m.getName().equals(name) && Type.getMethodDescriptor(m).equals(desc)) {
          ours = m;
        }
      }
      assertTrue(ours != null && Modifier.isStatic(ours.getModifiers()), "PlainFunctions." + name + desc);
      boolean inJdk = false;
      for (Method m : Class.forName(jdkClass).getMethods()) {
        inJdk |= m.getName().equals(name) && Type.getMethodDescriptor(m).equals(desc) && Modifier.isStatic(m.getModifiers());
      }
      assertTrue(inJdk, redirected + " is a static method of the JDK");
    }
  }

  @Test
  void functionsAndComparatorsAsTheJdks() {
    Object o = new Object();
    assertTrue(PlainFunctions.identity().apply(o) == o);
    List<String> words = List.of("pear", "fig", "apple", "kiwi", "banana", "fig");
    assertEquals(sorted(words, Comparator.comparing(String::toString)),
        sorted(words, PlainFunctions.comparing(String::toString)));
    assertEquals(sorted(words, Comparator.comparingInt(String::length)),
        sorted(words, PlainFunctions.comparingInt(String::length)));
    assertThrows(NullPointerException.class, () -> PlainFunctions.comparing(null));
    assertThrows(NullPointerException.class, () -> PlainFunctions.comparingInt(null));
  }

  private static List<String> sorted(List<String> words, Comparator<String> order) {
    List<String> out = new ArrayList<>(words);
    out.sort(order); // stable: equal keys keep their order, whoever compares
    return out;
  }

  @Test
  void collectorsAsTheJdks() {
    List<Integer> numbers = IntStream.range(0, 10_000).boxed().toList();
    assertEquals(numbers.stream().collect(Collectors.toList()), numbers.stream().collect(PlainFunctions.toList()));
    // Parallel: containers combined in encounter order.
    assertEquals(numbers.parallelStream().collect(Collectors.toList()),
        numbers.parallelStream().collect(PlainFunctions.toList()));

    Function<Integer, Integer> key = n -> n % 7;
    Function<Integer, String> value = String::valueOf;
    Map<Integer, String> joined = numbers.stream().collect(Collectors.toMap(key, value, (a, b) -> a + "," + b,
        TreeMap::new));
    Map<Integer, String> ours = numbers.stream().collect(PlainFunctions.toMap(key, value, (a, b) -> a + "," + b,
        TreeMap::new));
    assertEquals(joined, ours);
    Map<Integer, Integer> sums = numbers.parallelStream().collect(PlainFunctions.toMap(key, n -> n, Integer::sum,
        HashMap::new));
    assertEquals(numbers.parallelStream().collect(Collectors.toMap(key, n -> n, Integer::sum, HashMap::new)), sums);
    assertTrue(numbers.stream().collect(PlainFunctions.toMap(key, value, (a, b) -> a, LinkedHashMap::new))
        instanceof LinkedHashMap, "the map the supplier makes");
    assertThrows(NullPointerException.class,
        () -> Stream.of("a").collect(PlainFunctions.toMap(s -> s, s -> null, (a, b) -> a, HashMap::new)));
  }

  @Test
  void environmentAsTheJdks() {
    assertEquals(System.getenv(), PlainFunctions.getenv());
    assertThrows(UnsupportedOperationException.class, () -> PlainFunctions.getenv().put("x", "y"));
  }
}
