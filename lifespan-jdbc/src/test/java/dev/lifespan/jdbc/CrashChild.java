package dev.lifespan.jdbc;

import dev.lifespan.App;
import java.sql.Connection;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * The process {@link CrashTests} kills with SIGKILL: it enqueues entry {@code confirm/7}, says how
 * far it got on standard output, and blocks until it is killed.
 *
 * <ul>
 *   <li>{@code committed}: the entry committed (and one rolled back), the journal not running: a
 *       crash after the commit, before the start.
 *   <li>{@code running}: the handler started and blocks.
 *   <li>{@code worked}: the handler did its database work, before the done mark.
 * </ul>
 */
public final class CrashChild {
  private CrashChild() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    String point = args[1];
    DataSource ds = url.startsWith("jdbc:h2") ? Databases.h2Url(url) : Databases.postgres(url);
    Journal journal =
        Journal.create(
                ds,
                Journal.Options.named("child")
                    .withLease(Duration.ofSeconds(30))
                    .withPollInterval(Duration.ofMillis(100)))
            .register(
                Kind.of(
                    "confirm",
                    (entry, c) -> {
                      record(ds, entry);
                      if (point.equals("running")) say("RUNNING");
                      JournalContract.confirm(entry, c);
                      if (point.equals("worked")) say("WORKED");
                    }));
    if (point.equals("committed")) {
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        journal.enqueue(c, "confirm", "rolled-back", "");
        c.rollback();
      }
      journal.enqueueAndCommit("confirm", "7", "");
      say("COMMITTED");
    }
    App.start(
            App.Options.named("child"),
            point.equals("committed") ? ctx -> ctx.proceed() : journal.lifespan(),
            null)
        .awaitReady();
    if (!point.equals("committed")) journal.enqueueAndCommit("confirm", "7", "");
    Thread.sleep(Duration.ofDays(1));
  }

  private static void record(DataSource ds, Entry entry) throws Exception {
    try (Connection c = ds.getConnection();
        var p = c.prepareStatement("INSERT INTO runs VALUES (?, ?, 'child', ?, 0)")) {
      p.setString(1, entry.kind());
      p.setString(2, entry.key());
      p.setInt(3, entry.attempt());
      p.executeUpdate();
    }
  }

  /** Tells the parent, then waits to be killed. */
  private static void say(String what) throws InterruptedException {
    System.out.println(what);
    System.out.flush();
    Thread.sleep(Duration.ofDays(1));
  }
}
