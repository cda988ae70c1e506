package dev.jvmebpf.agent;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import java.util.stream.Collector;

/**
 * JDK factories that make their functions with lambdas of the JDK's own, written here as classes
 * instead. The build (LambdaDesugar) turns the agent jar's calls to the JDK's methods into calls
 * to these, with the same descriptors: each JDK lambda was a class the JVM generated at its first
 * use, interpreted, at the agent's start (the OpenTelemetry SDK's configuration called these, 11
 * classes). Each method behaves as the JDK's documents; what differs is only that nothing here is
 * serializable.
 *
 * <p>The lambdas below are the agent's own, which the same build step turns into classes.
 */
public final class PlainFunctions {

  private PlainFunctions() {}

  /** {@link Function#identity()}. */
  public static <T> Function<T, T> identity() {
    return t -> t;
  }

  /** {@link Comparator#comparing(Function)}. */
  public static <T, U extends Comparable<? super U>> Comparator<T> comparing(Function<? super T, ? extends U> key) {
    Objects.requireNonNull(key);
    return (a, b) -> key.apply(a).compareTo(key.apply(b));
  }

  /** {@link Comparator#comparingInt(ToIntFunction)}. */
  public static <T> Comparator<T> comparingInt(ToIntFunction<? super T> key) {
    Objects.requireNonNull(key);
    return (a, b) -> Integer.compare(key.applyAsInt(a), key.applyAsInt(b));
  }

  /** {@link java.util.stream.Collectors#toList()}: an ArrayList. */
  public static <T> Collector<T, ?, List<T>> toList() {
    return new Plain<T, List<T>>(ArrayList::new, List::add, (left, right) -> {
      left.addAll(right);
      return left;
    });
  }

  /**
   * {@link java.util.stream.Collectors#toMap(Function, Function, BinaryOperator, Supplier)}: values
   * of equal keys merged with {@code merge}, through {@link Map#merge} (a null value throws).
   */
  public static <T, K, U, M extends Map<K, U>> Collector<T, ?, M> toMap(Function<? super T, ? extends K> key,
      Function<? super T, ? extends U> value, BinaryOperator<U> merge, Supplier<M> map) {
    Objects.requireNonNull(key);
    Objects.requireNonNull(value);
    Objects.requireNonNull(merge);
    Objects.requireNonNull(map);
    return new Plain<T, M>(map, (m, element) -> m.merge(key.apply(element), value.apply(element), merge),
        (left, right) -> {
          for (Map.Entry<K, U> e : right.entrySet()) {
            left.merge(e.getKey(), e.getValue(), merge);
          }
          return left;
        });
  }

  /**
   * {@link System#getenv()}, as an immutable copy: the JDK's unmodifiable view streams its entries
   * through a lambda of its own. Copied once: the JDK's map is a snapshot taken as the JVM started.
   */
  public static Map<String, String> getenv() {
    Map<String, String> copy = environment;
    if (copy == null) {
      environment = copy = Map.copyOf(System.getenv()); // immutable: safe to publish without a lock
    }
    return copy;
  }

  private static Map<String, String> environment;

  /** A collector whose container is its result. */
  private static final class Plain<T, R> implements Collector<T, R, R> {
    private static final Set<Characteristics> IDENTITY_FINISH =
        Collections.unmodifiableSet(EnumSet.of(Characteristics.IDENTITY_FINISH));

    private final Supplier<R> supplier;
    private final BiConsumer<R, T> accumulator;
    private final BinaryOperator<R> combiner;

    Plain(Supplier<R> supplier, BiConsumer<R, T> accumulator, BinaryOperator<R> combiner) {
      this.supplier = supplier;
      this.accumulator = accumulator;
      this.combiner = combiner;
    }

    @Override
    public Supplier<R> supplier() {
      return supplier;
    }

    @Override
    public BiConsumer<R, T> accumulator() {
      return accumulator;
    }

    @Override
    public BinaryOperator<R> combiner() {
      return combiner;
    }

    @Override
    public Function<R, R> finisher() {
      return identity();
    }

    @Override
    public Set<Characteristics> characteristics() {
      return IDENTITY_FINISH;
    }
  }
}
