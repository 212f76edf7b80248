package dev.lifespan.springdemo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.loadgen.OrdersReport;
import dev.lifespan.springdemo.Load.Outcome;
import dev.lifespan.springdemo.Load.Result;
import dev.lifespan.test.ChildJvm;
import dev.lifespan.test.ChildJvm.Line;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link OrdersSpringApplication} with the Lifespan starter, as a real process: real SIGTERM and
 * {@code kill -9}, real HTTP over sockets, the database read after the process has exited.
 */
class OrdersSpringProcessTest {
  private static final Pattern READY =
      Pattern.compile("ready: listening on http://127\\.0\\.0\\.1:(\\d+)");

  /** Spring Boot's web server begins its graceful shutdown: the end of the drain delay. */
  private static final String GRACEFUL = "Commencing graceful shutdown";

  private static final Duration DRAIN_DELAY = Duration.ofSeconds(2);
  private static final Duration GRACE = Duration.ofSeconds(20);

  @TempDir Path dir;

  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @AfterEach
  void closeClient() {
    client.close();
  }

  private String h2() {
    return "jdbc:h2:file:" + dir.resolve("db").resolve("orders");
  }

  private static ChildJvm start(String db, String... extra) throws IOException {
    List<String> args = new ArrayList<>(List.of("--port=0", "--db=" + db));
    args.addAll(List.of(extra));
    return ChildJvm.start(OrdersSpringApplication.class, List.of("-Xmx192m"), args);
  }

  /** Waits until the service is ready; returns its port. */
  private static int port(ChildJvm child) throws InterruptedException {
    Line l = child.awaitLine(READY.asPredicate(), "'ready: listening on'");
    Matcher m = READY.matcher(l.text());
    assertTrue(m.find(), l.text());
    return Integer.parseInt(m.group(1));
  }

  /** The wall-clock time (epoch ms) of a line that starts with Spring Boot's HH:mm:ss.SSS. */
  private static long loggedAt(Line line) {
    LocalTime t = LocalTime.parse(line.text().substring(0, 12));
    return LocalDate.now().atTime(t).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
  }

  // ---- (1) SIGTERM under load, with the load balancer's lag

  @Test
  void sigtermUnderLoadServesThroughTheDrainDelayAndConfirmsEveryAcceptedOrder() throws Exception {
    try (ChildJvm child =
        start(
            h2(),
            "--confirm-ms=200-400",
            "--quiet",
            "--lifespan.shutdown.drain-delay=" + DRAIN_DELAY.toMillis() + "ms",
            "--lifespan.shutdown.grace=" + GRACE.toSeconds() + "s")) {
      int port = port(child);
      CountDownLatch thirtyAccepted = new CountDownLatch(30);
      AtomicLong signalledAt = new AtomicLong(Long.MAX_VALUE); // wall clock, ms
      // The load goes on after SIGTERM, as a load balancer does until it sees the endpoint gone,
      // and stops at the first refused connection after the signal (or when the child is gone).
      CompletableFuture<List<Result>> load =
          CompletableFuture.supplyAsync(
              () -> {
                AtomicInteger refusedAfter = new AtomicInteger();
                try {
                  return Load.run(
                      port,
                      8,
                      20_000,
                      () -> refusedAfter.get() > 0 || !child.isAlive(),
                      r -> {
                        if (r.outcome() == Outcome.ACCEPTED) thirtyAccepted.countDown();
                        if (r.outcome() == Outcome.REFUSED && r.startMillis() > signalledAt.get()) {
                          refusedAfter.incrementAndGet();
                        }
                      });
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      assertTrue(thirtyAccepted.await(ChildJvm.WAIT.toSeconds(), TimeUnit.SECONDS), child.output());
      signalledAt.set(System.currentTimeMillis());
      long signalled = child.signal("TERM");

      // readiness drops at once, while the web server still serves
      assertEquals(503, readinessAfterSignal(port), child.output());

      assertEquals(143, child.awaitExit(), child.output());
      Duration took = Duration.ofNanos(child.exitedNanos() - signalled);
      List<Result> results = load.get(ChildJvm.WAIT.toSeconds(), TimeUnit.SECONDS);
      String report = Load.describe(results) + "\n" + child.output();
      assertTrue(took.compareTo(GRACE) < 0, "exited " + took + " after SIGTERM: " + report);

      // the web server served through the drain delay: its graceful shutdown began after it ...
      long drainEnd = loggedAt(child.line(GRACEFUL));
      assertTrue(
          drainEnd - signalledAt.get() >= DRAIN_DELAY.toMillis(),
          "graceful shutdown began " + (drainEnd - signalledAt.get()) + " ms after SIGTERM");
      // ... and orders sent after the signal were taken
      assertTrue(
          results.stream()
              .anyMatch(
                  r -> r.outcome() == Outcome.ACCEPTED && r.startMillis() > signalledAt.get()),
          "no order accepted after SIGTERM: " + report);
      // nothing failed but what Tomcat's paused connector does once the drain delay is over
      for (Result r : results) {
        assertTrue(
            r.outcome() == Outcome.ACCEPTED
                || r.outcome() == Outcome.REFUSED
                || r.outcome() == Outcome.NO_RESPONSE
                || pausedConnectorsAnswer(r),
            r + ": " + report);
        if (r.failed()) {
          long endMillis = r.startMillis() + (r.endNanos() - r.startNanos()) / 1_000_000;
          assertTrue(
              endMillis >= drainEnd,
              r + " during the drain delay (" + (drainEnd - endMillis) + " ms before its end)");
        }
      }

      // every 201 is a stored order confirmed once, by this run
      List<Long> accepted = accepted(results);
      OrdersReport.Db db = OrdersReport.read(h2() + ";IFEXISTS=TRUE");
      assertEquals(Set.of(), db.notConfirmedOnce(accepted), report);
      assertEquals(db.orders(), db.confirmed(), "every stored order is confirmed: " + report);
      child.line("final counts: orders taken " + db.orders().size() + ", confirmed ");
    }
  }

  /**
   * Whether a response is the one Tomcat's connector gives a request that reaches it as it pauses
   * (Spring Boot's graceful shutdown): a 503, or Tomcat's own HTML 400 page. Tomcat 11.0 answers a
   * request whose line it read before the pause and whose headers it did not with a 503, then
   * checks that request's (unread) headers, finds no {@code Host} and turns the 503 into a 400. The
   * application's own 400s are JSON, and the load sends only valid orders.
   */
  private static boolean pausedConnectorsAnswer(Result r) {
    return r.outcome() == Outcome.OTHER_STATUS
        && (r.status() == 503 || (r.status() == 400 && r.detail().startsWith("<!doctype html>")));
  }

  /** Polls readiness after the signal until it is not 200; returns that status. */
  private int readinessAfterSignal(int port) throws Exception {
    HttpRequest get =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/actuator/health/readiness"))
            .timeout(Duration.ofSeconds(10))
            .build();
    while (true) {
      try {
        int status = client.send(get, HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status != 200) return status;
      } catch (ConnectException e) {
        return -1; // refused: the listener closed while readiness still said UP
      }
    }
  }

  private static List<Long> accepted(List<Result> results) {
    return results.stream().filter(r -> r.outcome() == Outcome.ACCEPTED).map(Result::id).toList();
  }

  // ---- (2) kill -9 under load, then a restart

  @Test
  void afterKill9UnderLoadTheRestartConfirmsEveryAcceptedOrderExactlyOnce() throws Exception {
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
      String url = pg.getJdbcUrl("postgres", "postgres");
      List<Result> results;
      // deliveries of ten minutes: the confirmations are running when the process dies
      try (ChildJvm first = start(url, "--confirm-ms=600000", "--lease=1s", "--quiet")) {
        int port = port(first);
        CountDownLatch twentyAccepted = new CountDownLatch(20);
        CompletableFuture<List<Result>> load =
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return Load.run(
                        port,
                        4,
                        20_000,
                        () -> !first.isAlive(),
                        r -> {
                          if (r.outcome() == Outcome.ACCEPTED) twentyAccepted.countDown();
                        });
                  } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                  }
                });
        assertTrue(twentyAccepted.await(ChildJvm.WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(137, first.kill(), first.output()); // SIGKILL, mid-load
        results = load.get(ChildJvm.WAIT.toSeconds(), TimeUnit.SECONDS);
        first.assertNoLine("confirmed (delivery took");
      }
      List<Long> accepted = accepted(results);
      assertTrue(accepted.size() >= 20, Load.describe(results));
      try (ChildJvm second = start(url, "--confirm-ms=10", "--lease=1s")) {
        port(second);
        for (long id : accepted) second.awaitLine("order " + id + " confirmed");
        second.signal("TERM");
        assertEquals(143, second.awaitExit(), second.output());
      }
      OrdersReport.Db db = OrdersReport.read(url);
      String report = Load.describe(results) + " " + db;
      assertEquals(Set.of(), db.notConfirmedOnce(accepted), report);
      assertEquals(db.orders(), db.confirmed(), "every stored order is confirmed: " + report);
      assertEquals(Set.of(), db.confirmedTwice(), report);
    }
  }

  // ---- (3) bad options and a port in use: one line, a non-zero exit

  // ---- (3) bad input, and the task dump

  @Test
  void aBadOrderIsA400NamingFieldAndValueAndStoresNothing() throws Exception {
    try (ChildJvm child = start(h2(), "--confirm-ms=1", "--quiet")) {
      int port = port(child);
      Map<String, String> bad = new LinkedHashMap<>();
      bad.put(
          "{\"item\": \"book\", \"quantity\": -2}",
          "field \"quantity\" must be a whole number from 1 to 1000000, not -2");
      bad.put(
          "{\"item\": \"book\"}",
          "field \"quantity\" must be a whole number from 1 to 1000000; it is missing");
      bad.put(
          "{\"item\": \" \", \"quantity\": 2}",
          "field \"item\" must be a non-blank string, not \" \"");
      bad.put(
          "{\"item\": \"" + "x".repeat(201) + "\", \"quantity\": 2}",
          "field \"item\" must be at most 200 characters, not 201");
      bad.put(
          "{bad",
          "the body must be an order, {\"item\": \"book\", \"quantity\": 2}: JSON parse error");
      bad.put(
          "",
          "the body must be an order, {\"item\": \"book\", \"quantity\": 2}: the body is empty");
      for (Map.Entry<String, String> e : bad.entrySet()) {
        HttpResponse<String> r = post(port, e.getKey());
        assertEquals(400, r.statusCode(), e.getKey() + " -> " + r.body());
        String message = message(r.body());
        assertTrue(message.startsWith(e.getValue()), e.getKey() + " -> " + message);
        assertEquals(1, message.lines().count(), message);
      }
      // nothing was stored: the next good order is the first
      HttpResponse<String> good = post(port, "{\"item\": \"book\", \"quantity\": 2}");
      assertEquals(201, good.statusCode(), good.body());
      assertEquals("{\"id\":1}", good.body());

      // the starter's task dump answers on loopback and names the demo's supervisors
      HttpResponse<String> dump =
          client.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/lifespan"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, dump.statusCode(), dump.body());
      assertTrue(dump.body().contains("orders/background"), dump.body());
      child.term();
      assertEquals(143, child.awaitExit(), child.output());
    }
    OrdersReport.Db db = OrdersReport.read(h2() + ";IFEXISTS=TRUE");
    assertEquals(Set.of(1L), Set.copyOf(db.orders()), "stored orders");
  }

  private HttpResponse<String> post(int port, String body) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The {@code message} of Spring Boot's error body, unescaped. */
  private static String message(String body) {
    Matcher m = Pattern.compile("\"message\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(body);
    assertTrue(m.find(), "no message in " + body);
    return m.group(1).replace("\\\"", "\"").replace("\\\\", "\\");
  }

  @Test
  void aBadOptionIsOneLineAndExitCode2() throws Exception {
    // read by the demo before Spring starts: that line alone
    badOption(
        "orders: demo.confirm-ms (--confirm-ms) must be MIN or MIN-MAX milliseconds, e.g."
            + " 1000-2000, not 'soon'",
        "--db=" + h2(),
        "--confirm-ms=soon");
    badOption(
        "orders: unknown option '--prot'; --help lists the options", "--db=" + h2(), "--prot=8080");
    badOption(
        "orders: --db must be a jdbc:h2: or jdbc:postgresql: URL, not"
            + " 'mysql://db/orders?password=***'",
        "--db=mysql://db/orders?password=secret");
    // a value Spring cannot bind: the option as given and Spring's reason, not its report
    badOption(
        "orders: bad option: --lease=soon: 'soon' is not a valid duration",
        "--db=" + h2(),
        "--lease=soon");
    // a value the starter refuses
    badOption(
        "orders: bad option: lifespan.shutdown.grace=-1s must not be negative",
        "--db=" + h2(),
        "--lifespan.shutdown.grace=-1s");
  }

  /** Runs the demo with {@code args}: exit code 2 and {@code line}, its only line of its own. */
  private static void badOption(String line, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("--port=0"));
    all.addAll(List.of(args));
    try (ChildJvm child = ChildJvm.start(OrdersSpringApplication.class, List.of("-Xmx192m"), all)) {
      assertEquals(2, child.awaitExit(), child.output());
      assertEquals(
          List.of(line),
          child.lines().stream().map(Line::text).filter(t -> t.startsWith("orders: ")).toList(),
          child.output());
      assertFalse(child.output().contains("secret"), child.output());
      assertFalse(
          child.output().contains("\tat ") || child.output().contains("APPLICATION FAILED"),
          "a stack trace or Spring Boot's report:\n" + child.output());
    }
  }

  @Test
  void anUnreachableDatabaseIsOneLineNamingItAndExitCode3() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort(); // nothing listens there once it is closed
    }
    String url = "jdbc:postgresql://127.0.0.1:" + closed + "/orders?user=u&password=secret";
    try (ChildJvm child = start(url)) {
      assertEquals(3, child.awaitExit(), child.output());
      child.line(
          "orders: startup failed: database jdbc:postgresql://127.0.0.1:"
              + closed
              + "/orders?user=u&password=***: Connection refused");
      assertEquals(1, child.count("orders: "), child.output());
      assertFalse(child.output().contains("secret"), child.output());
    }
  }

  @Test
  void aPortInUseIsOneLineAndExitCode3() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(0));
      List<String> args = List.of("--port=" + taken.getLocalPort(), "--db=" + h2());
      try (ChildJvm child =
          ChildJvm.start(OrdersSpringApplication.class, List.of("-Xmx192m"), args)) {
        assertEquals(3, child.awaitExit(), child.output());
        assertEquals(1, child.count("startup failed"), child.output());
        child.line(
            "orders: startup failed: Web server failed to start. Port "
                + taken.getLocalPort()
                + " was already in use.");
        for (Line l : child.lines()) {
          assertFalse(
              l.text().startsWith("\tat ") || l.text().startsWith("Caused by: "),
              "a stack trace:\n" + child.output());
          // the failure is that one line, not Spring Boot's report of it as well
          assertFalse(
              l.text().contains(" ERROR ")
                  || l.text().contains("Exception encountered during context initialization")
                  || l.text().contains("APPLICATION FAILED TO START"),
              "'" + l.text() + "':\n" + child.output());
        }
      }
    }
  }
}
