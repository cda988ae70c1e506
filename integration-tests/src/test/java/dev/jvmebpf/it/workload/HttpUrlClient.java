package dev.jvmebpf.it.workload;

import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * Runs in the target JVM: an application without any OpenTelemetry of its own that makes
 * {@code requests} GET requests to {@code <base>/slow/<i>} through {@code HttpURLConnection} and
 * prints {@code RESPONSE <i> <status> <body>} for each, nothing else (its output must be the same
 * with and without agents). With our agent it first waits, silently, until the agent is on.
 *
 * <p>args: base-url requests
 */
public final class HttpUrlClient {

  public static void main(String[] args) throws Exception {
    String base = args[0];
    int requests = Integer.parseInt(args[1]);
    Agent.awaitStatus();
    for (int i = 0; i < requests; i++) {
      HttpURLConnection connection = (HttpURLConnection) URI.create(base + "/slow/" + i).toURL().openConnection();
      int status = connection.getResponseCode();
      String body;
      try (InputStream in = connection.getInputStream()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      System.out.println("RESPONSE " + i + " " + status + " " + body);
    }
  }
}
