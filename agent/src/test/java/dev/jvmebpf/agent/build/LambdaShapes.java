package dev.jvmebpf.agent.build;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;

/**
 * Lambdas and method references of every shape LambdaDesugar handles, and two it leaves alone;
 * {@link #results()} is compared before and after desugaring.
 */
public class LambdaShapes {

  interface Op<T> {
    T apply(T t);
  }

  /** Its lambdas need a bridge: apply(Object) as well as apply(Integer). */
  interface IntOp extends Op<Integer> {
    @Override
    Integer apply(Integer t);
  }

  interface Marker {}

  interface WithDefault {
    String name();

    default Supplier<String> greeting() {
      return () -> "hello " + name();
    }
  }

  private final String field = "field";
  private int counter;

  private String helper(String s) {
    return "<" + s + ">";
  }

  public List<Object> results() {
    List<Object> out = new ArrayList<>();
    int local = 41;
    long wide = 1L << 40;
    Supplier<String> constant = () -> "a";
    IntSupplier capturingLocal = () -> local + 1;
    Supplier<String> capturingThis = () -> field + counter;
    Supplier<Long> capturingLong = () -> wide + local;
    Function<String, Integer> unbound = String::length;
    Function<String, String> bound = "abc"::concat;
    Supplier<List<String>> constructor = ArrayList::new;
    ToIntFunction<String> staticRef = Integer::parseInt;
    Function<String, Integer> staticBoxed = Integer::parseInt;
    BiFunction<Integer, Integer, Long> unboxing = (a, b) -> (long) a + b;
    int[] cell = {0};
    Runnable mutating = () -> cell[0] += 5;
    Comparator<String> byLength = Comparator.comparing(String::length);
    IntOp bridged = x -> x * 2;
    @SuppressWarnings("unchecked")
    Op<Integer> throughBridge = (Op<Integer>) (Op<?>) bridged;
    Runnable marked = (Runnable & Marker) () -> counter++;
    Runnable serializable = (Runnable & Serializable) () -> counter += 10;
    ToLongFunction<String> widening = String::length;
    IntFunction<String> primitiveArg = Integer::toString;
    Function<Integer, String> unboxedArg = Integer::toHexString;
    Function<String, String> privateRef = this::helper;
    WithDefault withDefault = () -> "world";
    Function<String[], List<String>> varargs = List::of;

    out.add(constant.get());
    out.add(capturingLocal.getAsInt());
    out.add(capturingThis.get());
    out.add(capturingLong.get());
    out.add(unbound.apply("four"));
    out.add(bound.apply("def"));
    List<String> made = constructor.get();
    made.add("x");
    out.add(made);
    out.add(staticRef.applyAsInt("123"));
    out.add(staticBoxed.apply("77"));
    out.add(unboxing.apply(3, 4));
    mutating.run();
    mutating.run();
    out.add(cell[0]);
    out.add(byLength.compare("aa", "b"));
    out.add(bridged.apply(21));
    out.add(throughBridge.apply(5));
    marked.run();
    out.add(marked instanceof Marker);
    serializable.run();
    out.add(counter);
    out.add(widening.applyAsLong("abcdef"));
    out.add(primitiveArg.apply(9));
    out.add(unboxedArg.apply(255));
    out.add(privateRef.apply("p"));
    out.add(withDefault.greeting().get());
    out.add(varargs.apply(new String[] {"v", "w"}));
    out.add(constantAgain() == constantAgain()); // one instance per site when nothing is captured
    return out;
  }

  private static Supplier<String> constantAgain() {
    return () -> "a";
  }
}
