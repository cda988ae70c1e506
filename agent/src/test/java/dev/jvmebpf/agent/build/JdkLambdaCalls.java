package dev.jvmebpf.agent.build;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Calls each JDK method LambdaDesugar redirects to PlainFunctions (LambdaDesugarTest runs it both ways). */
public class JdkLambdaCalls {

  public List<Object> results() {
    List<Object> out = new ArrayList<>();
    Function<String, String> same = Function.identity();
    out.add(same.apply("x"));
    List<String> words = new ArrayList<>(List.of("pear", "fig", "apple", "kiwi"));
    words.sort(Comparator.comparing(String::toString));
    out.add(List.copyOf(words));
    words.sort(Comparator.comparingInt(String::length));
    out.add(List.copyOf(words));
    out.add(Stream.of("a", "b", "c").collect(Collectors.toList()));
    out.add(Stream.of("ab", "ac", "b").collect(Collectors.toMap(w -> w.substring(0, 1), w -> w,
        (a, b) -> a + "+" + b, TreeMap::new)));
    Map<String, String> env = System.getenv();
    out.add(env.equals(System.getenv()));
    return out;
  }
}
