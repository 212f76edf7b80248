package dev.lifespan.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.http.HttpApp;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request whose deadline passes while its statement runs: the statement is cancelled (not run to
 * its end), the request answered 503 with the route's timeout response, its transaction rolled
 * back, and the database stays open: the next request, on the same single pooled connection, works.
 * On the demo's default database (H2, in files) and on a real PostgreSQL server.
 *
 * <p>The statement that runs for ever is the demo's own {@code INSERT INTO orders} of an order for
 * item {@code slow}: on H2 a check constraint counts a cross join of 10^18 rows for that item, on
 * PostgreSQL a trigger sleeps an hour.
 */
class OrdersDeadlineTest {
  private static final Duration DEADLINE = Duration.ofMillis(1500);

  /** What the route's deadline answers (Server's timeout response). */
  private static final String TIMEOUT_BODY =
      "deadline of " + DEADLINE.toMillis() + " ms exceeded\n";

  private static final String SLOW_ORDER = "{\"item\": \"slow\", \"quantity\": 1}";

  @TempDir Path dir;

  private static EmbeddedPostgres postgres;

  private final List<String> progress = new CopyOnWriteArrayList<>();
  private final ByteArrayOutputStream output = new ByteArrayOutputStream();
  private final List<HttpApp> apps = new ArrayList<>();
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** Started before the tests, so that its threads predate the leak checks. */
  @BeforeAll
  static void startPostgres() throws IOException {
    postgres = EmbeddedPostgres.builder().start();
  }

  @AfterAll
  static void stopPostgres() throws IOException {
    if (postgres != null) postgres.close();
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (HttpApp a : apps) a.app().requestShutdown();
    for (HttpApp a : apps) a.app().await(Duration.ofSeconds(30));
    client.close();
  }

  @Test
  void onH2ARequestPastItsDeadlineCancelsItsStatementAndTheDatabaseStaysOpen() throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("db").resolve("orders");
    HttpApp app = start(url);
    String db = new OrdersService(OrdersConfig.parse("--db=" + url), System.out).url();
    try (Connection c = DriverManager.getConnection(db);
        Statement s = c.createStatement()) {
      s.execute(
          "ALTER TABLE orders ADD CONSTRAINT slow_item CHECK (item <> 'slow' OR (SELECT COUNT(*)"
              + " FROM SYSTEM_RANGE(1, 1000000000) a, SYSTEM_RANGE(1, 1000000000) b) > 0)");
    }

    // H2 lists what each session executes: the count would go on for years
    assertTheSlowInsertIsCancelled(
        app,
        db,
        "H2",
        "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS"
            + " WHERE EXECUTING_STATEMENT LIKE 'INSERT INTO orders%'");
  }

  @Test
  void onPostgresARequestPastItsDeadlineCancelsItsStatementAndTheDatabaseStaysOpen()
      throws Exception {
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE orders_deadline");
    }
    String url = postgres.getJdbcUrl("postgres", "orders_deadline");
    HttpApp app = start(url);
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE FUNCTION slow_item() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
              + " IF NEW.item = 'slow' THEN PERFORM pg_sleep(3600); END IF; RETURN NEW; END $$");
      s.execute(
          "CREATE TRIGGER slow_item BEFORE INSERT ON orders FOR EACH ROW"
              + " EXECUTE FUNCTION slow_item()");
    }

    assertTheSlowInsertIsCancelled(
        app,
        url,
        "PostgreSQL",
        "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active'"
            + " AND query LIKE 'INSERT INTO orders%'");
  }

  /**
   * A request inserting the slow item gets the deadline's 503; then no session of database {@code
   * db} still runs the insert ({@code running} counts them: CancelHooks returns only once the
   * driver's call has ended), the next requests on the pool work, the slow order was rolled back,
   * and the service stops cleanly.
   */
  private void assertTheSlowInsertIsCancelled(HttpApp app, String db, String name, String running)
      throws Exception {
    assertTimesOut(app, name);
    try (Connection c = DriverManager.getConnection(db);
        Statement s = c.createStatement()) {
      assertEquals(0, count(s, running), transcript());
    }
    assertNextRequestsWork(app);
    try (Connection c = DriverManager.getConnection(db);
        Statement s = c.createStatement()) {
      assertEquals(0, count(s, "SELECT COUNT(*) FROM orders WHERE item = 'slow'"), "rolled back");
    }
    assertStopsCleanly(app);
  }

  /**
   * The wait for a pooled connection (HikariCP's, with a pool timeout of ten minutes) ends at the
   * caller's deadline; no connection is opened for it, and the pool serves the next borrower.
   */
  @Test
  void waitingForAPooledConnectionEndsAtTheCallersDeadline() throws Exception {
    String url = "jdbc:h2:mem:pool-wait;DB_CLOSE_DELAY=-1";
    try (HikariDataSource pool =
        OrdersService.pool(url, "pool-wait", 1, 1, Duration.ofMinutes(10))) {
      Connection held = OrdersService.borrow(pool);
      long start = System.nanoTime();
      TimeoutException e =
          assertThrows(
              TimeoutException.class,
              () ->
                  CancelScope.withTimeout(
                      Duration.ofMillis(200),
                      s -> OrdersService.db(pool, "wait", c -> c.isValid(1))));
      assertTrue(e.getMessage().contains("timed out"), e.getMessage());
      assertTrue(System.nanoTime() - start < Duration.ofMinutes(5).toNanos(), "before 10 min");
      assertFalse(Thread.currentThread().isInterrupted(), "the deadline's interrupt is cleared");
      OrdersService.giveBack(held);
      boolean usable = OrdersService.db(pool, "again", c -> c.isValid(1));
      assertTrue(usable, "given back, usable");
      assertEquals(1, OrdersService.openConnections(pool), "no connection opened for the wait");
    }
  }

  // ---- steps

  private HttpApp start(String url) throws InterruptedException {
    OrdersConfig config =
        OrdersConfig.parse(
            "--port=0",
            "--db=" + url,
            "--pool-size=1", // the next request gets the connection whose statement was cancelled
            "--confirm-ms=0",
            "--deadline=" + DEADLINE.toMillis() + "ms");
    HttpApp app =
        OrdersService.start(
            config, new PrintStream(output, true, StandardCharsets.UTF_8), progress::add);
    apps.add(app);
    assertTrue(app.awaitReady(), this::transcript);
    return app;
  }

  /** The slow order gets the route's timeout response, at its deadline. */
  private void assertTimesOut(HttpApp app, String database) throws Exception {
    long start = System.nanoTime();
    HttpResponse<String> r = send(app, "POST", "/orders", SLOW_ORDER);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    System.out.println(
        database
            + ": slow order answered "
            + r.statusCode()
            + " after "
            + took.toMillis()
            + " ms (deadline "
            + DEADLINE.toMillis()
            + " ms)");
    assertEquals(503, r.statusCode(), r.body() + transcript());
    assertEquals(TIMEOUT_BODY, r.body());
    assertTrue(took.compareTo(DEADLINE) >= 0, "not before the deadline: " + took);
    // the client's own timeout is 60 s; the statement would run for an hour or more
    assertTrue(took.compareTo(Duration.ofSeconds(30)) < 0, "at the deadline: " + took);
  }

  /** The database is open and the pool's one connection usable: an order is taken and read. */
  private void assertNextRequestsWork(HttpApp app) throws Exception {
    HttpResponse<String> ok = send(app, "POST", "/orders", "{\"item\": \"book\", \"quantity\": 2}");
    assertEquals(201, ok.statusCode(), ok.body() + transcript());
    String location = ok.headers().firstValue("Location").orElseThrow();
    HttpResponse<String> shown = send(app, "GET", location, null);
    assertEquals(200, shown.statusCode(), shown.body() + transcript());
    assertTrue(shown.body().contains("\"item\": \"book\""), shown.body());
  }

  private void assertStopsCleanly(HttpApp app) throws Exception {
    app.app().requestShutdown();
    App.Result result =
        app.app().await(Duration.ofSeconds(30)).orElseThrow(() -> new AssertionError(transcript()));
    assertEquals(App.Outcome.SUCCEEDED, result.outcome(), transcript());
    assertTrue(transcript().contains("final counts: orders taken 1, confirmed 1,"), transcript());
  }

  private HttpResponse<String> send(HttpApp app, String method, String path, String body)
      throws Exception {
    HttpRequest.BodyPublisher publisher =
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body);
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json")
            .method(method, publisher)
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static long count(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private String transcript() {
    return "\n--- service output:\n"
        + output.toString(StandardCharsets.UTF_8)
        + "--- progress:\n"
        + String.join("\n", progress);
  }
}
