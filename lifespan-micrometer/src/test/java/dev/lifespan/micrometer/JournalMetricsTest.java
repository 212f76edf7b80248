package dev.lifespan.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.jdbc.Entry;
import dev.lifespan.jdbc.Journal;
import dev.lifespan.jdbc.Kind;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link JournalMetrics} over a real journal on H2. */
class JournalMetricsTest {
  @TempDir Path dir;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void pendingRetriedAndFailedEntriesAreCounted() throws Exception {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:file:" + dir.resolve("journal").toAbsolutePath() + ";WRITE_DELAY=0");
    try (Connection keepOpen = ds.getConnection()) { // H2 closes a database with its last one
      CountDownLatch failedForGood = new CountDownLatch(1);
      Journal journal =
          Journal.create(
                  ds,
                  Journal.Options.named("outbox")
                      .withPollInterval(Duration.ofMillis(20))
                      .withFailureHandler((entry, t) -> failedForGood.countDown()))
              .register(Kind.of("send", (entry, c) -> {}))
              .register(
                  Kind.of(
                          "charge",
                          (entry, c) -> {
                            throw new IllegalStateException("card declined");
                          })
                      .withMaxAttempts(3)
                      .withBackoff(Duration.ZERO, Duration.ZERO));
      new JournalMetrics(journal).bindTo(registry);
      journal.enqueueAndCommit("send", "1", "");
      journal.enqueueAndCommit("send", "2", "");
      journal.enqueueAndCommit("charge", "9", "");
      assertEquals(
          3, registry.get("lifespan.journal.pending").tag("journal", "outbox").gauge().value());
      assertEquals(0, registry.get("lifespan.journal.retried").functionCounter().count());

      App app =
          App.start(App.Options.named("shop").withProgress(line -> {}), journal.lifespan(), null);
      assertTrue(failedForGood.await(30, TimeUnit.SECONDS));
      awaitStatus(journal, "send", "2", Entry.Status.DONE);
      awaitStatus(journal, "send", "1", Entry.Status.DONE);
      assertEquals(0, registry.get("lifespan.journal.pending").gauge().value());
      assertEquals(2, registry.get("lifespan.journal.retried").functionCounter().count());
      assertEquals(1, registry.get("lifespan.journal.failed").functionCounter().count());
      Meter.Id pending = registry.get("lifespan.journal.pending").meter().getId();
      assertEquals("entries", pending.getBaseUnit());
      app.requestShutdown();
      assertEquals(1, app.await().durableFailed());
    }
  }

  @Test
  void pendingReadsNaNWhenTheDatabaseCannotAnswer() {
    JdbcDataSource gone = new JdbcDataSource();
    gone.setURL("jdbc:h2:file:" + dir.resolve("none").toAbsolutePath() + ";IFEXISTS=TRUE");
    new JournalMetrics(Journal.create(gone, Journal.Options.named("lost"))).bindTo(registry);
    assertTrue(Double.isNaN(registry.get("lifespan.journal.pending").gauge().value()));
  }

  /** Waits until the committed status of the entry is {@code status}, polling for at most 30 s. */
  private static void awaitStatus(Journal j, String kind, String key, Entry.Status status)
      throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!j.status(kind, key).equals(Optional.of(status))) {
      if (System.nanoTime() - until > 0) {
        throw new AssertionError(
            kind + "/" + key + " is " + j.status(kind, key) + ", not " + status);
      }
      Thread.onSpinWait();
    }
  }
}
