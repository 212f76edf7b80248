package dev.lifespan.jdbc;

import dev.lifespan.App;
import dev.lifespan.TimeSource;
import dev.lifespan.test.FakeClock;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import javax.sql.DataSource;

/**
 * The process {@link CrashTests} kills with SIGKILL: it enqueues entry {@code confirm/7}, says how
 * far it got on standard output, and blocks until it is killed.
 *
 * <ul>
 *   <li>{@code uncommitted}: order 7 and its entry were written in a transaction that is still open
 *       (and entry {@code confirm/8} committed after them, so that the database wrote its files
 *       with the open transaction's rows in them); the journal not running: a crash after the
 *       enqueue, before the commit.
 *   <li>{@code committed}: the entry committed (and one rolled back), the journal not running: a
 *       crash after the commit, before the start.
 *   <li>{@code running}: the handler started and blocks.
 *   <li>{@code worked}: the handler did its database work, before the done mark.
 *   <li>{@code renewing}, {@code renewed} (a third argument: the instant the child's fake clock
 *       starts at): the handler started and blocks; the child advances its clock by a third of the
 *       lease, and the journal's lease renewal blocks just before its statement runs ({@code
 *       renewing}), or just after it ran and committed ({@code renewed}, followed by how many rows
 *       it renewed).
 * </ul>
 *
 * Every handler start is a row of {@code runs}, owner {@code child}, committed before the handler's
 * work; its {@code at_ms} is the child's clock in epoch milliseconds for the renewal points, 0
 * otherwise.
 */
public final class CrashChild {
  private CrashChild() {}

  /** The lease of the child's journal. */
  static final Duration LEASE = Duration.ofSeconds(30);

  public static void main(String[] args) throws Exception {
    String url = args[0];
    String point = args[1];
    boolean renewal = point.equals("renewing") || point.equals("renewed");
    DataSource db = url.startsWith("jdbc:h2") ? Databases.h2Url(url) : Databases.postgres(url);
    DataSource ds = renewal ? stoppingAtRenewal(db, point) : db;
    FakeClock clock = renewal ? new FakeClock(Instant.parse(args[2])) : null;
    CountDownLatch running = new CountDownLatch(1);
    Journal journal =
        Journal.create(
                ds,
                Journal.Options.named("child")
                    .withLease(LEASE)
                    .withPollInterval(Duration.ofMillis(100)))
            .register(
                Kind.of(
                    "confirm",
                    (entry, c) -> {
                      record(db, entry, clock == null ? 0 : clock.instant().toEpochMilli());
                      if (point.equals("running")) say("RUNNING");
                      if (renewal) {
                        running.countDown();
                        Thread.sleep(Duration.ofDays(1)); // until killed
                      }
                      JournalContract.confirm(entry, c);
                      if (point.equals("worked")) say("WORKED");
                    }));
    if (point.equals("uncommitted")) {
      try (Connection c = db.getConnection()) {
        c.setAutoCommit(false);
        try (var p = c.prepareStatement("INSERT INTO orders VALUES (7)")) {
          p.executeUpdate();
        }
        journal.enqueue(c, "confirm", "7", "");
        journal.enqueueAndCommit("confirm", "8", ""); // another transaction, committed
        say("UNCOMMITTED"); // the connection stays open, its transaction too
      }
    }
    if (point.equals("committed")) {
      try (Connection c = db.getConnection()) {
        c.setAutoCommit(false);
        journal.enqueue(c, "confirm", "rolled-back", "");
        c.rollback();
      }
      journal.enqueueAndCommit("confirm", "7", "");
      say("COMMITTED");
    }
    App.Options options = App.Options.named("child");
    if (clock != null) options = options.withClock((TimeSource) clock);
    App.start(options, journal.lifespan(), null).awaitReady();
    journal.enqueueAndCommit("confirm", "7", "");
    if (renewal) {
      running.await(); // claimed at the clock's start, its lease until then + LEASE
      clock.advance(LEASE.dividedBy(3)); // the renewal is due: it says RENEWING or RENEWED
    }
    Thread.sleep(Duration.ofDays(1));
  }

  private static void record(DataSource ds, Entry entry, long atMillis) throws Exception {
    try (Connection c = ds.getConnection();
        var p = c.prepareStatement("INSERT INTO runs VALUES (?, ?, 'child', ?, ?)")) {
      p.setString(1, entry.kind());
      p.setString(2, entry.key());
      p.setInt(3, entry.attempt());
      p.setLong(4, atMillis);
      p.executeUpdate();
    }
  }

  /**
   * {@code ds}, except that the journal's lease renewal (the one statement that sets {@code
   * lease_until} alone) says {@code RENEWING} and blocks before it runs ({@code point} {@code
   * renewing}), or runs, says {@code RENEWED <rows>} and blocks ({@code renewed}).
   */
  private static DataSource stoppingAtRenewal(DataSource ds, String point) {
    return proxy(
        DataSource.class,
        (m, a) -> {
          Object r = call(ds, m, a);
          if (!(r instanceof Connection c)) return r;
          return proxy(
              Connection.class,
              (cm, ca) -> {
                Object cr = call(c, cm, ca);
                if (!cm.getName().equals("prepareStatement")
                    || !((String) ca[0]).contains(" SET lease_until = ?")) {
                  return cr;
                }
                return proxy(
                    PreparedStatement.class,
                    (pm, pa) -> {
                      boolean execute = pm.getName().equals("executeUpdate");
                      if (execute && point.equals("renewing")) say("RENEWING");
                      Object pr = call(cr, pm, pa);
                      if (execute) say("RENEWED " + pr); // committed: auto-commit is on
                      return pr;
                    });
              });
        });
  }

  /** A call made through a proxy. */
  @FunctionalInterface
  private interface Call {
    Object invoke(Method method, Object[] args) throws Throwable;
  }

  private static <T> T proxy(Class<T> type, Call call) {
    return type.cast(
        Proxy.newProxyInstance(
            type.getClassLoader(), new Class<?>[] {type}, (self, m, a) -> call.invoke(m, a)));
  }

  private static Object call(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** Tells the parent, then waits to be killed. */
  private static void say(String what) throws InterruptedException {
    System.out.println(what);
    System.out.flush();
    Thread.sleep(Duration.ofDays(1));
  }
}
