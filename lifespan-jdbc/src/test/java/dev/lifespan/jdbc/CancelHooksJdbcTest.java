package dev.lifespan.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.CancelHooks;
import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.Task;
import dev.lifespan.TaskGroup;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CancelHooks#execute} on H2 and on a real PostgreSQL server: a deadline cancels the running
 * statement with {@code Statement.cancel()}, the call ends with the scope's timeout instead of the
 * driver's {@code SQLException} (57014, suppressed in it), and the same connection stays usable.
 */
class CancelHooksJdbcTest {
  /** Counts a trillion rows: H2 checks for cancellation while it iterates. */
  private static final String H2_LONG = "select sum(x) from system_range(1, 1000000000000)";

  private static final String PG_LONG = "select pg_sleep(60)";

  @TempDir Path dir;

  @BeforeAll
  static void server() {
    Databases.startPostgres();
  }

  @Test
  void aDeadlineCancelsALongH2QueryAndTheConnectionStaysUsable() throws Exception {
    DataSource ds = Databases.h2(dir);
    try (Connection c = ds.getConnection();
        Connection watcher = ds.getConnection();
        Statement st = c.createStatement()) {
      TimeoutException e =
          timeOutWhenRunning(
              st,
              H2_LONG,
              () ->
                  count(
                      watcher,
                      "select count(*) from information_schema.sessions"
                          + " where executing_statement like 'select sum(x)%'"));
      assertCancelledByTheDriver(e);
      assertEquals(1, selectOne(st));
      assertFalse(c.isClosed());
      assertEquals(1, selectOne(watcher)); // the database is still open
    }
  }

  @Test
  void aDeadlineCancelsPgSleepAndTheSameConnectionStaysUsable() throws Exception {
    DataSource ds = Databases.postgres(Databases.freshPostgresUrl());
    try (Connection c = ds.getConnection();
        Connection watcher = ds.getConnection();
        Statement st = c.createStatement()) {
      int pid = pid(st);
      String active =
          "select count(*) from pg_stat_activity where pid = "
              + pid
              + " and state = 'active' and query = '"
              + PG_LONG
              + "'";
      long start = System.nanoTime();
      TimeoutException e = timeOutWhenRunning(st, PG_LONG, () -> count(watcher, active));
      long took = System.nanoTime() - start;
      assertTrue(took < TimeUnit.SECONDS.toNanos(30), "took " + took + " ns: not cancelled");
      assertCancelledByTheDriver(e);
      assertEquals(1, selectOne(st));
      assertEquals(pid, pid(st)); // the same backend: the connection was not replaced
      assertEquals(0, count(watcher, active));
    }
  }

  @Test
  void withTimeoutAroundPgSleepThrowsTimeoutExceptionAndMoveOnAfterReturnsEmpty() throws Exception {
    DataSource ds = Databases.postgres(Databases.freshPostgresUrl());
    try (Connection c = ds.getConnection();
        Statement stmt = c.createStatement()) {
      long start = System.nanoTime();
      assertThrows(
          TimeoutException.class,
          () ->
              CancelScope.withTimeout(
                  Duration.ofMillis(200),
                  s -> CancelHooks.execute(stmt, st -> st.executeQuery(PG_LONG))));
      Optional<ResultSet> moved =
          CancelScope.moveOnAfter(
              Duration.ofMillis(200),
              s -> CancelHooks.execute(stmt, st -> st.executeQuery(PG_LONG)));
      assertTrue(moved.isEmpty());
      long took = System.nanoTime() - start;
      assertTrue(took < TimeUnit.SECONDS.toNanos(50), "took " + took + " ns: not cancelled");
      assertEquals(1, selectOne(stmt));
    }
  }

  @Test
  void aCancelledTaskOnAPlatformThreadEndsCancelledNotFailed() throws Exception {
    DataSource ds = Databases.postgres(Databases.freshPostgresUrl());
    try (Connection c = ds.getConnection();
        Connection watcher = ds.getConnection();
        Statement st = c.createStatement()) {
      int pid = pid(st);
      AtomicReference<Throwable> outcome = new AtomicReference<>();
      TaskGroup.run(
          "queries",
          Thread.ofPlatform().factory(),
          g -> {
            Task<ResultSet> t =
                g.fork(
                    () -> {
                      try {
                        return CancelHooks.execute(st, q -> q.executeQuery(PG_LONG));
                      } catch (CancelledException e) {
                        outcome.set(e);
                        throw e;
                      }
                    });
            awaitOne(
                () ->
                    count(
                        watcher,
                        "select count(*) from pg_stat_activity where pid = "
                            + pid
                            + " and state = 'active'"));
            t.cancel();
          });
      CancelledException e = assertInstanceOf(CancelledException.class, outcome.get());
      assertEquals(
          "57014", assertInstanceOf(SQLException.class, e.getSuppressed()[0]).getSQLState());
      assertEquals(1, selectOne(st));
    }
  }

  @Test
  void withoutCancellationTheResultAndTheDriversExceptionPassUnchanged() throws Exception {
    try (Connection c = Databases.h2(dir).getConnection();
        Statement stmt = c.createStatement()) {
      int one = CancelHooks.execute(stmt, CancelHooksJdbcTest::selectOne);
      assertEquals(1, one);
      SQLException e =
          assertThrows(
              SQLException.class,
              () -> CancelHooks.execute(stmt, st -> st.executeQuery("select * from missing")));
      assertTrue(e.getMessage().contains("MISSING"), e.getMessage());
    }
  }

  @Test
  void aScopeCancelledBeforeTheCallRunsNoStatement() throws Exception {
    try (Connection c = Databases.h2(dir).getConnection();
        Statement stmt = c.createStatement()) {
      stmt.execute("create table t(x int)");
      CancelScope.run(
          s -> {
            s.cancel();
            assertThrows(
                CancelledException.class,
                () -> CancelHooks.execute(stmt, st -> st.executeUpdate("insert into t values 1")));
          });
      assertEquals(0, count(c, "select count(*) from t"));
    }
  }

  // ---- helpers

  /**
   * Runs {@code sql} on {@code st} in a task, inside a {@code withTimeout} scope whose deadline is
   * moved to now once {@code running} reports the statement running on the server; returns the
   * scope's {@code TimeoutException}.
   */
  private static TimeoutException timeOutWhenRunning(Statement st, String sql, SqlCount running)
      throws Exception {
    AtomicReference<CancelScope> timed = new AtomicReference<>();
    Object outcome =
        TaskGroup.call(
            g -> {
              Task<Object> t =
                  g.fork(
                      () -> {
                        try {
                          return CancelScope.withTimeout(
                              Duration.ofDays(1),
                              s -> {
                                timed.set(s);
                                return CancelHooks.execute(st, q -> q.executeQuery(sql));
                              });
                        } catch (TimeoutException e) {
                          return e;
                        }
                      });
              awaitOne(running);
              timed.get().setTimeout(Duration.ZERO); // the deadline passes: TimeoutException
              return t.join();
            });
    return assertInstanceOf(TimeoutException.class, outcome);
  }

  private static void assertCancelledByTheDriver(TimeoutException e) {
    assertEquals(1, e.getSuppressed().length, "suppressed: the statement's exception");
    SQLException sql = assertInstanceOf(SQLException.class, e.getSuppressed()[0]);
    assertEquals("57014", sql.getSQLState(), sql.toString());
  }

  @FunctionalInterface
  private interface SqlCount {
    int get() throws SQLException;
  }

  /** Polls {@code count} (a query on another connection) until it is 1; at most 30 s. */
  private static void awaitOne(SqlCount count) throws SQLException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (count.get() != 1) {
      if (System.nanoTime() - end > 0) throw new AssertionError("the statement did not start");
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // polls the server, orders nothing
    }
  }

  private static int count(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static int selectOne(Connection c) throws SQLException {
    return count(c, "select 1");
  }

  private static int selectOne(Statement st) throws SQLException {
    try (ResultSet rs = st.executeQuery("select 1")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static int pid(Statement st) throws SQLException {
    try (ResultSet rs = st.executeQuery("select pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
