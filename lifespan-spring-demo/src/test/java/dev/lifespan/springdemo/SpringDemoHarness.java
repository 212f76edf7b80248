package dev.lifespan.springdemo;

import dev.lifespan.loadgen.OrdersReport;
import dev.lifespan.springdemo.Load.Outcome;
import dev.lifespan.springdemo.Load.Result;
import dev.lifespan.test.ChildJvm;
import dev.lifespan.test.ChildJvm.Line;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * The Spring Boot orders service with the Lifespan starter against the same service on plain Spring
 * ({@code --mode=plain-spring}), measured by hand (BENCHMARKS.md, section 13); not a test.
 *
 * <ul>
 *   <li>{@code shutdown}: 50 orders taken (their confirmations pending, 3 to 4 s each), then 100
 *       connections sending orders that take 1.5 s each ({@code --order-ms}); SIGTERM while those
 *       100 are in flight; the load goes on for the endpoint lag (2 s, as a load balancer does
 *       until it sees the pod gone), then stops. Measured: accepted orders not confirmed after the
 *       exit (lost), the time from SIGTERM to exit, the requests sent during the lag that failed,
 *       the in-flight requests that failed. The starter runs with a drain delay of the lag's
 *       length.
 *   <li>{@code ping}: {@code wrk -t2 -c50 -d10s} on {@code GET /ping}, each mode in turn, after a
 *       10 s warm-up; with the server process's CPU time per request over the measured run.
 * </ul>
 *
 * System properties: {@code rounds} (default 3), {@code modes} (default {@code
 * lifespan,plain-spring}).
 */
public final class SpringDemoHarness {
  private SpringDemoHarness() {}

  private static final Pattern READY =
      Pattern.compile("ready: listening on http://127\\.0\\.0\\.1:(\\d+)");
  private static final List<String> MODES =
      List.of(
          System.getProperty("modes", DemoProperties.LIFESPAN + "," + DemoProperties.PLAIN_SPRING)
              .split(","));

  static final Duration LAG = Duration.ofSeconds(2);
  static final int PENDING = 50;
  static final int IN_FLIGHT = 100;

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("rounds", 3);
    String what = args.length == 0 ? "" : args[0];
    System.out.printf(
        Locale.ROOT,
        "java %s, %d CPUs; %s%n",
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        uptime());
    switch (what) {
      case "shutdown" -> {
        for (int round = 1; round <= rounds; round++) {
          for (int m = 0; m < MODES.size(); m++) shutdown(round, mode(round, m));
        }
      }
      case "ping" -> {
        for (int round = 1; round <= rounds; round++) {
          for (int m = 0; m < MODES.size(); m++) ping(round, mode(round, m));
        }
      }
      default -> {
        System.err.println("SpringDemoHarness: shutdown or ping, not '" + what + "'");
        System.exit(2);
      }
    }
  }

  /** The {@code m}-th mode of round {@code round}: which goes first alternates. */
  private static String mode(int round, int m) {
    return MODES.get((round - 1 + m) % MODES.size());
  }

  private static ChildJvm start(String mode, List<String> jvm, String... extra) throws IOException {
    Path db = Files.createTempDirectory("orders-spring-bench").resolve("orders");
    List<String> args = new ArrayList<>(List.of("--port=0", "--db=jdbc:h2:file:" + db, "--quiet"));
    args.add("--mode=" + mode);
    args.addAll(List.of(extra));
    return ChildJvm.start(OrdersSpringApplication.class, jvm, args);
  }

  private static int port(ChildJvm child) throws InterruptedException {
    Line l = child.awaitLine(READY.asPredicate(), "'ready: listening on'");
    Matcher m = READY.matcher(l.text());
    if (!m.find()) throw new IllegalStateException(l.text());
    return Integer.parseInt(m.group(1));
  }

  // ---- shutdown

  private static void shutdown(int round, String mode) throws Exception {
    String load = uptime();
    List<String> extra =
        new ArrayList<>(List.of("--confirm-ms=3000-4000", "--order-ms=1500", "--lease=5s"));
    if (mode.equals(DemoProperties.LIFESPAN)) {
      extra.add("--lifespan.shutdown.drain-delay=" + LAG.toMillis() + "ms");
      extra.add("--lifespan.shutdown.grace=30s");
    }
    Path db;
    try (ChildJvm child = start(mode, List.of("-Xmx384m"), extra.toArray(String[]::new))) {
      db = dbOf(child);
      int port = port(child);
      // 50 orders: taken, their confirmations pending
      List<Result> first =
          IntStream.range(0, PENDING)
              .mapToObj(i -> CompletableFuture.supplyAsync(() -> Load.post(port, i, timeout())))
              .toList()
              .stream()
              .map(CompletableFuture::join)
              .toList();
      // 100 connections sending orders; SIGTERM once they are in flight
      AtomicBoolean stop = new AtomicBoolean();
      CompletableFuture<List<Result>> lagLoad =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return Load.run(port, IN_FLIGHT, 1_000_000, stop::get, r -> {});
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      LockSupport.parkNanos(Duration.ofMillis(700).toNanos()); // all 100 sent, none answered yet
      long signalMillis = System.currentTimeMillis();
      long signalled = child.signal("TERM");
      LockSupport.parkNanos(LAG.toNanos()); // the load balancer's lag
      stop.set(true);
      int exit = child.awaitExit();
      double took = (child.exitedNanos() - signalled) / 1e9;
      List<Result> rest = lagLoad.join();

      List<Result> all = new ArrayList<>(first);
      all.addAll(rest);
      List<Long> accepted =
          all.stream().filter(r -> r.outcome() == Outcome.ACCEPTED).map(Result::id).toList();
      OrdersReport.Db after = OrdersReport.read("jdbc:h2:file:" + db + ";IFEXISTS=TRUE");
      long lost = after.notConfirmedOnce(accepted).size();
      List<Result> inFlight = rest.stream().filter(r -> r.startMillis() < signalMillis).toList();
      List<Result> duringLag = rest.stream().filter(r -> r.startMillis() >= signalMillis).toList();
      System.out.printf(
          Locale.ROOT,
          "round %d %-12s exit %3d in %5.2f s | accepted %4d, lost %4d | in flight at SIGTERM %3d,"
              + " failed %3d | sent during the lag %4d, failed %4d (%s) | %s%n",
          round,
          mode,
          exit,
          took,
          accepted.size(),
          lost,
          inFlight.size(),
          inFlight.stream().filter(Result::failed).count(),
          duringLag.size(),
          duringLag.stream().filter(Result::failed).count(),
          failures(duringLag),
          load);
    }
  }

  private static Path dbOf(ChildJvm child) throws InterruptedException {
    Line l = child.awaitLine(READY.asPredicate(), "'ready: listening on'");
    Matcher m = Pattern.compile("database jdbc:h2:file:([^;]+)").matcher(l.text());
    if (!m.find()) throw new IllegalStateException(l.text());
    return Path.of(m.group(1));
  }

  private static Duration timeout() {
    return Duration.ofSeconds(60);
  }

  private static String failures(List<Result> results) {
    StringBuilder sb = new StringBuilder();
    for (Outcome o : Outcome.values()) {
      if (o == Outcome.ACCEPTED) continue;
      long n = results.stream().filter(r -> r.outcome() == o).count();
      if (n > 0)
        sb.append(sb.isEmpty() ? "" : ", ")
            .append(o.name().toLowerCase(Locale.ROOT))
            .append(' ')
            .append(n);
    }
    return sb.isEmpty() ? "none" : sb.toString();
  }

  // ---- ping

  private static final Pattern RATE = Pattern.compile("Requests/sec:\\s+([\\d.]+)");
  private static final Pattern REQUESTS = Pattern.compile("(\\d+) requests in");
  private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
  private static final Pattern ERRORS = Pattern.compile("Socket errors: (.*)");

  private static void ping(int round, String mode) throws Exception {
    // the JVM's own flags (C2, its default collector) rather than the quick-start ones of tests
    try (ChildJvm child =
        start(mode, List.of("-XX:TieredStopAtLevel=4", "-Xmx512m"), "--confirm-ms=1")) {
      int port = port(child);
      String url = "http://127.0.0.1:" + port + "/ping";
      wrk("10s", url); // warm-up
      String load = uptime();
      ProcessHandle server = ProcessHandle.of(child.pid()).orElseThrow();
      Duration cpu0 = server.info().totalCpuDuration().orElse(Duration.ZERO);
      String out = wrk("10s", url);
      Duration cpu = server.info().totalCpuDuration().orElse(Duration.ZERO).minus(cpu0);
      Matcher requests = REQUESTS.matcher(out);
      long served = requests.find() ? Long.parseLong(requests.group(1)) : 0;
      Matcher rate = RATE.matcher(out);
      Matcher non2xx = NON_2XX.matcher(out);
      Matcher errors = ERRORS.matcher(out);
      System.out.printf(
          Locale.ROOT,
          "round %d %-12s %10s req/s  server CPU %6.1f µs/req  non-2xx %s  socket errors %s | %s%n",
          round,
          mode,
          rate.find() ? rate.group(1) : "?",
          served == 0 ? Double.NaN : cpu.toNanos() / 1e3 / served,
          non2xx.find() ? non2xx.group(1) : "0",
          errors.find() ? errors.group(1) : "none",
          load);
      child.term();
      child.awaitExit();
    }
  }

  private static String wrk(String duration, String url) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("wrk", "-t2", "-c50", "-d" + duration, url)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) throw new IllegalStateException("wrk failed:\n" + out);
    return out;
  }

  private static String uptime() {
    try {
      String avg = Files.readString(Path.of("/proc/loadavg")).strip();
      return "load average " + String.join(" ", List.of(avg.split(" ")).subList(0, 3));
    } catch (IOException e) {
      return "load average ?";
    }
  }
}
