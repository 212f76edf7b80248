package dev.lifespan.examples;

import static dev.lifespan.examples.ShutdownDemoProcessTest.assertStoppedLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.loadgen.OrdersReport;
import dev.lifespan.test.ChildJvm;
import dev.lifespan.test.ChildJvm.Line;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link OrdersService} as a real process, stopped with real signals and judged by its exit code
 * and its output: a startup failure is one line and exit code 3, with nothing left open; a clean
 * SIGTERM confirms every order taken; a grace period too short for the pending confirmations ends
 * with the work-abandoned exit code, within the hard deadline; after a {@code kill -9}, the next
 * start confirms every order that got a 201, once.
 */
class OrdersServiceProcessTest {
  private static final Pattern STAMPED = Pattern.compile("\\[ {0,3}\\d+\\.\\d\\d s\\] orders: .+");

  /**
   * The demo's own Logback configuration, as {@code ./run.sh demo} has it, rather than the tests'
   * {@code logback-test.xml}, which is on this class path too.
   */
  static final List<String> DEMO_LOGGING = List.of("-Dlogback.configurationFile=logback.xml");

  private static final Pattern LISTENING = Pattern.compile("listening on http://[^:/]+:(\\d+)");

  @TempDir Path dir;

  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @AfterEach
  void closeClient() {
    client.close();
  }

  private ChildJvm start(String... extra) throws Exception {
    List<String> args = new ArrayList<>();
    args.add("--port=0");
    args.add("--db=jdbc:h2:file:" + dir.resolve("db").resolve("orders"));
    args.addAll(List.of(extra));
    return ChildJvm.start(OrdersService.class, DEMO_LOGGING, args);
  }

  /** Waits until the service listens; returns its port. */
  private static int port(ChildJvm child) throws InterruptedException {
    Line l = child.awaitLine(LISTENING.asPredicate(), "'listening on'");
    Matcher m = LISTENING.matcher(l.text());
    assertTrue(m.find(), l.text());
    return Integer.parseInt(m.group(1));
  }

  private HttpResponse<String> order(int port, String item) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders"))
            .timeout(Duration.ofSeconds(10))
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"item\": \"" + item + "\", \"quantity\": 1}"))
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  // ---- startup failures: one line, exit code 3, nothing left open

  @Test
  void aDatabaseThatCannotBeOpenedExitsWith3AndOneLineNamingItsUrl() throws Exception {
    Path notADirectory = Files.writeString(dir.resolve("a file"), "");
    String url = "jdbc:h2:file:" + notADirectory.resolve("orders");
    try (ChildJvm child =
        ChildJvm.start(OrdersService.class, DEMO_LOGGING, List.of("--port=0", "--db=" + url))) {
      assertEquals(3, child.awaitExit(), child.output());
      child.line("startup failed in layer 'database': database " + url + " cannot be opened: ");
      assertNoStackTrace(child);
      child.line("database: closed");
      assertStoppedLine(child, "orders", "STARTUP_FAILED, exit code 3");
    }
  }

  @Test
  void aPortInUseExitsWith3AndOneLineAndTheDatabaseIsClosedCleanly() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(0));
      try (ChildJvm child = start("--port=" + taken.getLocalPort())) {
        assertEquals(3, child.awaitExit(), child.output());
        child.line(
            "orders: startup failed in layer 'http listener': port "
                + taken.getLocalPort()
                + " is already in use (BindException)");
        assertNoStackTrace(child);
        child.line("database: closed");
        assertStoppedLine(child, "orders", "STARTUP_FAILED, exit code 3");
      }
    }
    // the database file alone: no trace file, nothing else left behind
    try (Stream<Path> files = Files.list(dir.resolve("db"))) {
      assertEquals(List.of("orders.mv.db"), files.map(p -> p.getFileName().toString()).toList());
    }
  }

  private static void assertNoStackTrace(ChildJvm child) {
    for (Line l : child.lines()) {
      assertFalse(
          l.text().startsWith("\tat ")
              || l.text().strip().startsWith("at ")
              || l.text().startsWith("Caused by: "),
          "a stack trace:\n" + child.output());
    }
  }

  // ---- a crash

  private static final Pattern ID = Pattern.compile("\\{\"id\": (\\d+)\\}");

  /** POSTs an order, which must get 201; returns its id. */
  private long accepted(int port, String item) throws Exception {
    HttpResponse<String> r = order(port, item);
    assertEquals(201, r.statusCode(), r.body());
    Matcher m = ID.matcher(r.body());
    assertTrue(m.find(), r.body());
    return Long.parseLong(m.group(1));
  }

  @Test
  void afterAKill9TheRestartConfirmsEveryOrderThatGot201ExactlyOnce() throws Exception {
    List<Long> ids = new ArrayList<>();
    // deliveries of ten minutes: the confirmations are running when the process dies
    try (ChildJvm first = start("--confirm-ms=600000", "--lease=1s")) {
      int port = port(first);
      for (int i = 1; i <= 4; i++) ids.add(accepted(port, "book " + i));
      assertEquals(137, first.kill(), first.output()); // SIGKILL
      first.assertNoLine("confirmed (delivery took");
    }
    try (ChildJvm second = start("--confirm-ms=10", "--lease=1s")) {
      second.awaitLine("database: schema ready; it holds 4 order(s), 0 confirmed");
      int port = port(second);
      for (int i = 5; i <= 6; i++) {
        long id = accepted(port, "book " + i);
        assertTrue(id > ids.getLast(), "id " + id + " given again after the crash: " + ids);
        ids.add(id);
      }
      for (long id : ids) second.awaitLine("order " + id + " confirmed");
      second.signal("TERM");
      assertEquals(143, second.awaitExit(), second.output());
      second.line(
          "final counts: orders taken 2, confirmed 2, awaiting confirmation 0; bad requests 0;"
              + " refused while stopping 0; confirmed for orders taken earlier 4");
    }
    OrdersReport.Db db =
        OrdersReport.read("jdbc:h2:file:" + dir.resolve("db").resolve("orders") + ";IFEXISTS=TRUE");
    assertEquals(new TreeSet<>(ids), db.orders());
    assertEquals(new TreeSet<>(ids), db.confirmed());
    assertEquals(Set.of(), db.confirmedTwice());
  }

  // ---- shutdown

  @Test
  void cleanSigtermConfirmsEveryOrderTakenAndExitsWith143() throws Exception {
    try (ChildJvm child = start("--confirm-ms=300")) {
      int port = port(child);
      for (int i = 1; i <= 3; i++) {
        assertEquals(201, order(port, "book " + i).statusCode(), child.output());
      }
      child.awaitLine("order 3 taken");
      child.signal("TERM");

      assertEquals(143, child.awaitExit(), child.output());
      for (int i = 1; i <= 3; i++) child.line("order " + i + " confirmed");
      child.line("final counts: orders taken 3, confirmed 3, awaiting confirmation 0;");
      child.line("database: closed");
      assertStoppedLine(child, "orders", "TERMINATED, exit code 143");
      // one format for the service's lines, the runner's and the library's log records
      child.line("orders: INFO dev.lifespan.http: application 'orders' listening on");
      for (Line l : child.lines()) {
        assertTrue(
            STAMPED.matcher(l.text()).matches() || l.text().startsWith("  "), // "try:" lines
            "'" + l.text() + "' is not stamped:\n" + child.output());
      }
    }
  }

  @Test
  void graceTooShortForPendingConfirmationsExitsWith4WithinTheHardDeadline() throws Exception {
    Duration grace = Duration.ofSeconds(1);
    // App's defaults: teardown timeout 5 s, kill timeout 2 s; then a margin for a slow machine
    Duration hardDeadline = grace.plus(Duration.ofSeconds(5)).plus(Duration.ofSeconds(2));
    Duration margin = Duration.ofSeconds(5);
    try (ChildJvm child = start("--grace=1s", "--confirm-ms=20000")) {
      int port = port(child);
      assertEquals(201, order(port, "book").statusCode(), child.output());
      assertEquals(201, order(port, "pen").statusCode(), child.output());
      child.awaitLine("order 2 taken");
      long signalled = child.signal("TERM");

      assertEquals(4, child.awaitExit(), child.output());
      Duration took = Duration.ofNanos(child.exitedNanos() - signalled);
      assertTrue(
          took.compareTo(hardDeadline.plus(margin)) < 0,
          "exited " + took + " after SIGTERM; hard deadline " + hardDeadline + child.output());
      child.assertNoLine("order 1 confirmed");
      child.assertNoLine("order 2 confirmed");
      child.line("final counts: orders taken 2, confirmed 0, awaiting confirmation 2;");
      child.line("database: closed");
      assertStoppedLine(child, "orders", "WORK_ABANDONED, exit code 4");
    }
  }
}
