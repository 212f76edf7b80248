package dev.lifespan.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.jdbc.internal.JournalImpl;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The journal on a real PostgreSQL server, a fresh database per test. */
class PostgresJournalTest extends JournalTests {
  @BeforeAll
  static void server() {
    Databases.startPostgres();
  }

  @Override
  DataSource open() {
    return Databases.postgres(Databases.freshPostgresUrl());
  }

  /**
   * The grace period ends while the done mark of a run whose handler has returned waits for a row
   * lock: the run is cancelled, yet the done mark and the commit finish once the lock is free, and
   * no interrupt reaches the driver (it would close the connection's socket, and the work would be
   * done again at the next start). PostgreSQL only: H2 ends a lock wait after its lock timeout.
   */
  @Test
  void aRunWhoseHandlerReturnedCommitsEvenIfTheGracePeriodEndsDuringItsCommit() throws Exception {
    CountDownLatch handling = new CountDownLatch(1);
    CountDownLatch locked = new CountDownLatch(1);
    CountDownLatch cancelled = new CountDownLatch(1);
    JournalImpl j =
        journal(
            "a",
            recording(
                "confirm",
                "a",
                (entry, c) -> {
                  confirm(entry, c);
                  // the run's own scope: its hook fires when the grace period's end cancels it
                  CancelScope.current().orElseThrow().onCancel(cancelled::countDown);
                  handling.countDown();
                  locked.await();
                }));
    App app = start(j);
    try (Connection lock = dataSource().getConnection();
        Statement s = lock.createStatement()) {
      lock.setAutoCommit(false);
      j.enqueueAndCommit("confirm", "7", "");
      assertTrue(handling.await(30, TimeUnit.SECONDS), "the handler runs");
      s.executeQuery("SELECT id FROM lifespan_journal WHERE entry_key = '7' FOR UPDATE").close();
      locked.countDown(); // the handler returns; the done mark waits for the lock
      await(
          () -> {
            try {
              return count(
                      "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                          + " AND datname = current_database()")
                  == 1;
            } catch (java.sql.SQLException e) {
              throw new AssertionError(e);
            }
          },
          "the done mark to wait for the lock");
      app.signal(App.Signal.TERM);
      clock.advance(Duration.ofSeconds(10)); // the grace period ends
      assertTrue(cancelled.await(30, TimeUnit.SECONDS), "the run was cancelled");
      lock.rollback(); // the lock is free: the done mark goes on
    }
    app.await();
    assertStatus(j, "confirm", "7", Entry.Status.DONE);
    assertEquals(1, confirmations("7"), "the handler's work committed");
    assertEquals(0, j.claimer().leftPending());
  }
}
