package dev.lifespan.jdbc;

import dev.lifespan.App;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * One instance of {@link PostgresTwoInstancesTest}: a journal on the test's PostgreSQL database,
 * with a stable owner name, a {@link #LEASE} lease, at most {@link #MAX_CONCURRENCY} entries at
 * once, running the entries the test enqueued. Its handler records each start in {@code runs}
 * (owner, attempt, wall-clock epoch milliseconds), committed before the work; then works for {@link
 * #WORK}, and writes the entry's confirmation in the journal's transaction. Its runs number {@code
 * holdFrom} to {@code holdFrom + holds - 1} say {@code HOLD <key>} and block instead, until the
 * process is killed. Says {@code READY} once its application is ready.
 *
 * <p>Arguments: the JDBC URL, the owner name, {@code holdFrom}, {@code holds}.
 */
public final class InstanceChild {
  private InstanceChild() {}

  static final Duration LEASE = Duration.ofSeconds(3);
  static final int MAX_CONCURRENCY = 8;
  static final Duration WORK = Duration.ofMillis(20);

  public static void main(String[] args) throws Exception {
    String url = args[0];
    String owner = args[1];
    int holdFrom = Integer.parseInt(args[2]);
    int holds = Integer.parseInt(args[3]);
    DataSource ds = Databases.postgres(url);
    AtomicInteger runs = new AtomicInteger();
    Journal journal =
        Journal.create(
                ds,
                Journal.Options.named("instances")
                    .withOwner(owner)
                    .withLease(LEASE)
                    .withPollInterval(Duration.ofMillis(100))
                    .withMaxConcurrency(MAX_CONCURRENCY))
            .register(
                Kind.of(
                    "confirm",
                    (entry, c) -> {
                      record(ds, entry, owner);
                      int n = runs.incrementAndGet();
                      if (n >= holdFrom && n < holdFrom + holds) {
                        say("HOLD " + entry.key());
                        Thread.sleep(Duration.ofDays(1)); // until killed
                      }
                      Thread.sleep(WORK); // the work's own time
                      JournalContract.confirm(entry, c);
                    }));
    App.start(App.Options.named(owner), journal.lifespan(), null).awaitReady();
    say("READY");
    Thread.sleep(Duration.ofDays(1)); // until killed
  }

  private static void record(DataSource ds, Entry entry, String owner) throws Exception {
    try (Connection c = ds.getConnection();
        var p = c.prepareStatement("INSERT INTO runs VALUES (?, ?, ?, ?, ?)")) {
      p.setString(1, entry.kind());
      p.setString(2, entry.key());
      p.setString(3, owner);
      p.setInt(4, entry.attempt());
      p.setLong(5, System.currentTimeMillis());
      p.executeUpdate();
    }
  }

  private static synchronized void say(String what) {
    System.out.println(what);
    System.out.flush();
  }
}
