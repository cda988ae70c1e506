package dev.jvmebpf.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Launches workload JVMs in each configuration, interleaved, and prints medians and ratios. */
final class Runner {

  /** One way to launch the workload: without the agent, or with it and these arguments. */
  record Config(String name, String agentArguments) {
    static Config without(String name) {
      return new Config(name, null);
    }

    static Config with(String name, String agentArguments) {
      return new Config(name, agentArguments);
    }
  }

  private final String java;
  private final String classes;
  private final java.nio.file.Path agent;

  Runner(String java, String classes, java.nio.file.Path agent) {
    this.java = java;
    this.classes = classes;
    this.agent = agent;
  }

  void compare(List<Config> configs, int rounds, Class<?> workload, String... args) throws Exception {
    Map<Config, List<Double>> results = new LinkedHashMap<>();
    configs.forEach(c -> results.put(c, new ArrayList<>()));
    for (int round = 0; round < rounds; round++) {
      for (Config config : configs) {
        results.get(config).add(run(config, workload, args));
      }
    }
    print(configs, results);
  }

  private static void print(List<Config> configs, Map<Config, List<Double>> results) {
    double baseline = median(results.get(configs.get(0)));
    System.out.printf(Locale.ROOT, "  %-28s %14s %10s   %s%n", "configuration", "median", "ratio", "runs");
    for (Config config : configs) {
      List<Double> r = results.get(config);
      double m = median(r);
      System.out.printf(Locale.ROOT, "  %-28s %14.0f %10.3f   %s%n", config.name(), m, m / baseline,
          r.stream().map(v -> String.format(Locale.ROOT, "%.0f", v)).toList());
    }
  }

  /**
   * Like {@link #compare}, but the measured workload ({@code measured}, always without the
   * agent) runs while a second JVM runs {@code background} in each configuration: what the
   * agent in one process costs another.
   */
  void compareBeside(List<Config> configs, int rounds, Class<?> background, List<String> backgroundArgs,
      Class<?> measured, String... args) throws Exception {
    Map<Config, List<Double>> results = new LinkedHashMap<>();
    configs.forEach(c -> results.put(c, new ArrayList<>()));
    for (int round = 0; round < rounds; round++) {
      for (Config config : configs) {
        Process beside = start(config, background, backgroundArgs.toArray(String[]::new));
        try {
          // Its agent has started (it says so first) before the measured JVM starts.
          StringBuilder line = new StringBuilder();
          for (int c; (c = beside.getInputStream().read()) >= 0 && c != '\n'; ) {
            line.append((char) c);
          }
          checkStatus(config, line.toString());
          results.get(config).add(run(Config.without(config.name()), measured, args));
        } finally {
          beside.destroyForcibly();
          beside.waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
    print(configs, results);
  }

  private Process start(Config config, Class<?> workload, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(java, "-Xmx1g", "-Xms1g"));
    if (config.agentArguments() != null) {
      command.add("-javaagent:" + agent + "=" + config.agentArguments());
    }
    command.addAll(List.of("-cp", classes, workload.getName()));
    command.addAll(Arrays.asList(args));
    return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  private double run(Config config, Class<?> workload, String... args) throws Exception {
    Process p = start(config, workload, args);
    String out;
    try {
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        throw new IOException(config.name() + ": the workload did not finish");
      }
    } finally {
      p.destroyForcibly();
    }
    String result = null;
    for (String line : out.split("\n")) {
      if (line.startsWith("AGENT ")) {
        checkStatus(config, line);
      } else if (line.startsWith("RESULT ")) {
        result = line.substring(7).trim();
      }
    }
    if (result == null) {
      throw new IOException(config.name() + ": no RESULT line in\n" + out);
    }
    return Double.parseDouble(result);
  }

  /** The workload's "AGENT status" line against what the configuration asked for. */
  private static void checkStatus(Config config, String line) throws IOException {
    String status = line.startsWith("AGENT ") ? line.substring(6) : "(no status line: '" + line + "')";
    boolean expectAgent = config.agentArguments() != null;
    if (expectAgent != !status.equals("none") || (expectAgent && !status.startsWith("on:"))) {
      throw new IOException(config.name() + ": agent status is '" + status + "'; run as root");
    }
  }

  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
