package dev.lifespan.bench.http;

import static dev.lifespan.bench.Stats.median;

import dev.lifespan.bench.Settings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Requests per second and p99 latency of a trivial route ({@link TrivialServer}) through
 * lifespan-http against the bare JDK {@code HttpServer} with the same virtual-thread executor,
 * driven by {@code wrk} on loopback; a bounded program, not JMH.
 *
 * <p>Each round starts each variant's server in a child JVM of its own (the harness's {@code java}
 * and class path, the same flags), waits until its port accepts, runs {@code wrk} once unmeasured
 * (warm-up: the JIT compiles the server's path) and once measured, then stops the server with
 * SIGTERM. The variants' order alternates between rounds, so that drift on the machine falls on
 * both alike. Server and {@code wrk} share the machine's cores, as a sidecar load generator would.
 * The report gives each round's figures, the medians, and lifespan's median throughput as a
 * multiple of bare's, and the server's CPU time per request (its process's user and system time
 * over the measured run, divided by the requests): less noisy than throughput on a shared machine,
 * it is what each request costs the server. Any non-2xx response or socket error is printed and
 * fails the run (exit 1).
 *
 * <p>System properties (all optional): {@code rounds} (default 5), {@code seconds} (measured {@code
 * wrk} run, default 10), {@code warmupSeconds} (default 5), {@code connections} (default 64),
 * {@code threads} ({@code wrk}'s, default 2), {@code wrk} (its path, default {@code wrk} on the
 * {@code PATH}), {@code variants} (default {@code bare,lifespan}; the diagnostic {@code task} and
 * {@code scopes} of {@link TrivialServer} too), {@code childArgs} (JVM flags for the servers, split
 * at spaces).
 */
public final class HttpThroughputHarness {
  private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
  private static final Pattern P99 = Pattern.compile("^\\s+99%\\s+([0-9.]+)(us|ms|s)\\s*$");
  private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
  private static final Pattern SOCKET_ERRORS = Pattern.compile("Socket errors: .*");
  private static final Pattern REQUESTS = Pattern.compile("(\\d+) requests in");

  private HttpThroughputHarness() {}

  /** One measured {@code wrk} run. */
  private record Run(
      double rps,
      double p99Millis,
      long requests,
      double cpuMicrosPerRequest,
      List<String> errors) {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("rounds", 5);
    int seconds = Integer.getInteger("seconds", 10);
    int warmup = Integer.getInteger("warmupSeconds", 5);
    int connections = Integer.getInteger("connections", 64);
    int threads = Integer.getInteger("threads", 2);
    String wrk = System.getProperty("wrk", "wrk");
    List<String> variants = Settings.list("variants", "bare,lifespan", ",");
    List<String> childArgs = Settings.list("childArgs", "", " ");
    String java = ProcessHandle.current().info().command().orElseThrow();
    System.out.printf(
        "java %s, %d CPUs; wrk -t%d -c%d -d%ds (after a %d s warm-up) on GET /hello; %d rounds%n",
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        threads,
        connections,
        seconds,
        warmup,
        rounds);

    Map<String, List<Run>> results = new LinkedHashMap<>();
    for (String v : variants) results.put(v, new ArrayList<>());
    List<String> failures = new ArrayList<>();
    for (int round = 1; round <= rounds; round++) {
      List<String> order = new ArrayList<>(variants);
      if (round % 2 == 0) Collections.reverse(order);
      for (String v : order) {
        Run r = runOnce(java, childArgs, v, wrk, threads, connections, warmup, seconds);
        results.get(v).add(r);
        System.out.printf(
            Locale.ROOT,
            "round %d %-9s %10.0f req/s   p99 %7.2f ms   %d requests   server CPU %.2f µs/req%s%n",
            round,
            v,
            r.rps(),
            r.p99Millis(),
            r.requests(),
            r.cpuMicrosPerRequest(),
            r.errors().isEmpty() ? "" : "   ERRORS " + r.errors());
        if (!r.errors().isEmpty()) failures.add(v + " round " + round + ": " + r.errors());
      }
    }

    System.out.println();
    System.out.printf(
        "%-9s %12s %12s %14s %18s%n",
        "variant", "median rps", "median p99", "× bare rps", "server CPU µs/req");
    double bare =
        results.containsKey("bare")
            ? median(results.get("bare").stream().mapToDouble(Run::rps).sorted().toArray())
            : Double.NaN;
    for (var e : results.entrySet()) {
      double rps = median(e.getValue().stream().mapToDouble(Run::rps).sorted().toArray());
      double p99 = median(e.getValue().stream().mapToDouble(Run::p99Millis).sorted().toArray());
      double cpu =
          median(e.getValue().stream().mapToDouble(Run::cpuMicrosPerRequest).sorted().toArray());
      System.out.printf(
          Locale.ROOT,
          "%-9s %12.0f %9.2f ms %14.3f %18.2f%n",
          e.getKey(),
          rps,
          p99,
          rps / bare,
          cpu);
    }
    if (!failures.isEmpty()) {
      System.out.println("FAILED: " + failures);
      System.exit(1);
    }
  }

  private static Run runOnce(
      String java,
      List<String> childArgs,
      String variant,
      String wrk,
      int threads,
      int connections,
      int warmup,
      int seconds)
      throws IOException, InterruptedException {
    int port = freePort();
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(childArgs);
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            TrivialServer.class.getName(),
            variant,
            String.valueOf(port)));
    Path log = Files.createTempFile("http-bench-", ".log");
    Process server =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      awaitPort(port, server, log);
      String url = "http://127.0.0.1:" + port + "/hello";
      wrk(wrk, threads, connections, warmup, url);
      long cpuBefore = cpuNanos(server);
      List<String> out = wrk(wrk, threads, connections, seconds, url);
      long cpu = cpuNanos(server) - cpuBefore;
      double rps = -1;
      double p99 = -1;
      long requests = -1;
      List<String> errors = new ArrayList<>();
      for (String line : out) {
        Matcher m;
        if ((m = RPS.matcher(line)).find()) rps = Double.parseDouble(m.group(1));
        if ((m = P99.matcher(line)).find()) p99 = toMillis(m.group(1), m.group(2));
        if ((m = REQUESTS.matcher(line)).find()) requests = Long.parseLong(m.group(1));
        if ((m = NON_2XX.matcher(line)).find()) errors.add(m.group());
        if ((m = SOCKET_ERRORS.matcher(line)).find()) errors.add(m.group());
      }
      if (rps < 0 || p99 < 0) throw new IllegalStateException("cannot read wrk's output: " + out);
      return new Run(rps, p99, requests, cpu / 1e3 / requests, errors);
    } finally {
      server.destroy(); // SIGTERM: the lifespan variant drains and exits 143
      if (!server.waitFor(60, TimeUnit.SECONDS)) server.destroyForcibly().waitFor();
      Files.deleteIfExists(log);
    }
  }

  private static List<String> wrk(String wrk, int threads, int connections, int seconds, String url)
      throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(
                wrk,
                "-t" + threads,
                "-c" + connections,
                "-d" + seconds + "s",
                "--latency",
                "--timeout",
                "10s",
                url)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) throw new IllegalStateException("wrk failed: " + out);
    return out.lines().toList();
  }

  /** The server process's CPU time so far (user and system, all its threads). */
  private static long cpuNanos(Process p) {
    return p.info()
        .totalCpuDuration()
        .orElseThrow(() -> new IllegalStateException("cannot read the server's CPU time"))
        .toNanos();
  }

  private static double toMillis(String value, String unit) {
    double v = Double.parseDouble(value);
    return switch (unit) {
      case "us" -> v / 1000;
      case "ms" -> v;
      default -> v * 1000;
    };
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void awaitPort(int port, Process server, Path log)
      throws IOException, InterruptedException {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() - giveUp < 0) {
      if (!server.isAlive()) {
        throw new IllegalStateException("server exited: " + Files.readString(log));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        return;
      } catch (IOException notYet) {
        Thread.sleep(10);
      }
    }
    throw new IllegalStateException("server did not listen within 60 s: " + Files.readString(log));
  }
}
