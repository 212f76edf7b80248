package dev.lifespan.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.TimeSource;
import dev.lifespan.jdbc.internal.Claimer;
import dev.lifespan.jdbc.internal.JournalImpl;
import dev.lifespan.test.FakeClock;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * What every journal test needs: a database (given by the subclass), the tables that record what
 * handlers did, a fake clock, applications running journals, and bounded waits for their effects.
 */
abstract class JournalContract {
  static final Duration LEASE = Duration.ofSeconds(30);
  static final Duration POLL = Duration.ofSeconds(1);

  final FakeClock clock = newClock();

  /** The clock of this test's applications. */
  FakeClock newClock() {
    return new FakeClock();
  }

  final List<App> apps = new ArrayList<>();
  final List<String> log = new CopyOnWriteArrayList<>();

  /** The progress lines of this test's applications. */
  final List<String> progress = new CopyOnWriteArrayList<>();

  private final Logger jul = Logger.getLogger("dev.lifespan.jdbc");
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          log.add(r.getLevel() + " " + r.getMessage());
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  private DataSource dataSource;

  /** Opens this test's database. */
  abstract DataSource open() throws SQLException;

  /** Closes this test's database, after the applications stopped. */
  void close() throws SQLException {}

  DataSource dataSource() {
    return dataSource;
  }

  @BeforeEach
  void createTables() throws SQLException {
    dataSource = open();
    jul.addHandler(capture);
    exec(
        "CREATE TABLE runs (kind VARCHAR(200), entry_key VARCHAR(500), owner VARCHAR(200),"
            + " attempt INT, at_ms BIGINT)");
    exec("CREATE TABLE confirmations (entry_key VARCHAR(500))");
    exec("CREATE TABLE orders (id INT PRIMARY KEY)");
  }

  @AfterEach
  void stopApps() throws Exception {
    jul.removeHandler(capture);
    for (App app : apps) {
      app.requestShutdown();
      clock.advance(Duration.ofSeconds(10)); // the grace: must-finish work a test left ends
      app.await();
    }
    close();
  }

  // ---- applications

  JournalImpl journal(String name, Kind... kinds) {
    return journal(Journal.Options.named(name).withLease(LEASE).withPollInterval(POLL), kinds);
  }

  JournalImpl journal(Journal.Options options, Kind... kinds) {
    Journal j = Journal.create(dataSource(), options);
    for (Kind k : kinds) j.register(k);
    return (JournalImpl) j;
  }

  /** Starts an application on the fake clock whose only layer is {@code journal}. */
  App start(JournalImpl journal) throws InterruptedException {
    return start(journal, clock);
  }

  /** Starts an application on {@code time} whose only layer is {@code journal}. */
  App start(JournalImpl journal, TimeSource time) throws InterruptedException {
    return start(journal, time, Duration.ZERO);
  }

  /**
   * Starts an application on {@code time} whose only layer is {@code journal}, with {@code
   * drainDelay} between a signal and the end of its (empty) main body.
   */
  App start(JournalImpl journal, TimeSource time, Duration drainDelay) throws InterruptedException {
    App app =
        App.start(
            App.Options.named("app-" + journal.name())
                .withClock(time)
                .withDrainDelay(drainDelay)
                .withGrace(Duration.ofSeconds(10))
                .withTeardownTimeout(Duration.ofSeconds(5))
                .withKillTimeout(Duration.ofSeconds(2))
                .withProgressInterval(Duration.ofHours(1))
                .withProgress(progress::add),
            journal.lifespan(),
            null);
    apps.add(app);
    assertTrue(app.awaitReady());
    await(() -> journal.claimer() != null && journal.claimer().polls() > 0, "the first poll");
    return app;
  }

  /**
   * Advances the fake clock by {@code step}, then waits until the journal polled at the new time
   * and every entry it claimed has ended its run.
   */
  void advance(JournalImpl journal, Duration step) {
    Claimer c = journal.claimer();
    long polls = c.polls();
    clock.advance(step);
    await(() -> c.polls() > polls && c.inFlight() == 0, "a poll after advancing " + step);
  }

  /** A kind whose handler records its start by {@code who}, then runs {@code body}. */
  Kind recording(String kind, String who, Kind.Handler body) {
    return Kind.of(
        kind,
        (entry, connection) -> {
          recordStart(entry, who);
          body.handle(entry, connection);
        });
  }

  /** Records a start by {@code who} in {@code runs}, committed on a connection of its own. */
  void recordStart(Entry entry, String who) throws SQLException {
    try (Connection c = dataSource().getConnection();
        var p = c.prepareStatement("INSERT INTO runs VALUES (?, ?, ?, ?, ?)")) {
      p.setString(1, entry.kind());
      p.setString(2, entry.key());
      p.setString(3, who);
      p.setInt(4, entry.attempt());
      p.setLong(5, clock.elapsed().toMillis());
      p.executeUpdate();
    }
  }

  static void confirm(Entry entry, Connection c) throws SQLException {
    try (var p = c.prepareStatement("INSERT INTO confirmations VALUES (?)")) {
      p.setString(1, entry.key());
      p.executeUpdate();
    }
  }

  // ---- the database

  void exec(String sql) throws SQLException {
    try (Connection c = dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  long count(String sql) throws SQLException {
    try (Connection c = dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      assertTrue(r.next());
      return r.getLong(1);
    }
  }

  String string(String sql) throws SQLException {
    try (Connection c = dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      return r.next() ? r.getString(1) : null;
    }
  }

  long runs(String key) throws SQLException {
    return count("SELECT COUNT(*) FROM runs WHERE entry_key = '" + key + "'");
  }

  long confirmations(String key) throws SQLException {
    return count("SELECT COUNT(*) FROM confirmations WHERE entry_key = '" + key + "'");
  }

  void awaitStatus(Journal j, String kind, String key, Entry.Status status) {
    await(
        () -> {
          try {
            return j.status(kind, key).orElse(null) == status;
          } catch (SQLException e) {
            throw new AssertionError(e);
          }
        },
        kind + "/" + key + " " + status);
  }

  void assertStatus(Journal j, String kind, String key, Entry.Status status) throws SQLException {
    assertEquals(status, j.status(kind, key).orElse(null), kind + "/" + key);
  }

  void assertNoEntry(Journal j, String kind, String key) throws SQLException {
    assertFalse(j.status(kind, key).isPresent(), kind + "/" + key + " exists");
  }

  /** Waits, in real time and bounded, for an effect on other threads; never to order events. */
  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0)
        throw new AssertionError("timed out waiting for " + what);
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }
}
