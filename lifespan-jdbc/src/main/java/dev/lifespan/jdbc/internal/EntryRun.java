package dev.lifespan.jdbc.internal;

import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.jdbc.Entry;
import dev.lifespan.jdbc.Journal;
import dev.lifespan.jdbc.Kind;
import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;

/**
 * One run of one claimed entry, as a must-finish task of the application's background supervisor.
 */
final class EntryRun {
  private static final CancelScope.Options FINISH =
      CancelScope.Options.named("journal commit").shielded();

  private final Claimer claimer;
  private final JournalImpl journal;
  private final Sql.Claim claim;

  /** A run of {@code claim}, just claimed: listed as running in dumps until {@link #run} ends. */
  EntryRun(Claimer claimer, Sql.Claim claim) {
    this.claimer = claimer;
    this.journal = claimer.journal;
    this.claim = claim;
    claimer.running(claim);
  }

  String taskName() {
    return taskName(journal, claim.entry().kind(), claim.entry().key());
  }

  /** The name of the task that runs the entry of {@code kind} and {@code key}. */
  static String taskName(JournalImpl journal, String kind, String key) {
    return "journal '" + journal.name() + "' " + kind + "/" + key;
  }

  /** The task's body. */
  void run() {
    try {
      Throwable failure = attempt();
      if (failure == null) return;
      try {
        CancelScope.checkpoint();
      } catch (CancelledException cancelled) { // the grace period ended: not a failure
        claimer.releaseForNextStart(claim);
        throw cancelled;
      }
      if (failure instanceof VirtualMachineError fatal) throw fatal;
      recordFailure(failure);
    } finally {
      claimer.ended(claim);
    }
  }

  /** Runs the handler and the done mark in one transaction; returns what failed, or null. */
  private Throwable attempt() {
    Kind kind = journal.kind(claim.entry().kind());
    try (Connection c = journal.dataSource.getConnection()) {
      c.setAutoCommit(false);
      Throwable failure = null;
      try {
        kind.handler().handle(claim.entry(), c);
      } catch (Throwable t) {
        failure = t;
      }
      return finish(c, failure);
    } catch (Throwable t) { // getConnection, setAutoCommit or close
      return t;
    }
  }

  /**
   * After the handler: marks the entry done and commits, or rolls back if the handler failed
   * ({@code failure}); returns what failed, or null once committed.
   *
   * <p>In a shield, because it must finish: once the handler has returned, its work is done, and
   * the commit is what records it (cancelled here, the work would be done again at the next start);
   * a rollback returns the connection clean. The shield also keeps the interrupt of the run's
   * cancellation (the end of the grace period) out of the driver, where it closes an embedded H2
   * database. A commit that happened stands even if the run was cancelled meanwhile.
   */
  private Throwable finish(Connection c, Throwable failure) {
    Throwable[] outcome = {failure};
    try {
      CancelScope.run(
          FINISH,
          s -> {
            if (failure != null) {
              Claimer.rollbackQuietly(c, failure);
              return;
            }
            try {
              if (claimer.sql.done(c, claim, journal.owner, claimer.time.nowMillis())) {
                c.commit();
              } else {
                c.rollback();
                journal.log(
                    Level.WARNING,
                    claim.entry() + ": lease lost to another instance; this run is rolled back");
              }
            } catch (Throwable t) {
              Claimer.rollbackQuietly(c, t);
              outcome[0] = t;
            }
          });
    } catch (CancelledException cancelledMeanwhile) {
      // leaving the shield in the cancelled run: the outcome above stands, and the cancellation
      // stays visible to the run's next checkpoint
    }
    return outcome[0];
  }

  private void recordFailure(Throwable failure) {
    Entry entry = claim.entry();
    Kind kind = journal.kind(entry.kind());
    String error = describe(failure);
    try (Connection c = journal.dataSource.getConnection()) {
      c.setAutoCommit(true);
      if (entry.attempt() >= kind.maxAttempts()) {
        if (claimer.sql.fail(c, claim, journal.owner, error, claimer.time.nowMillis())) {
          report(entry, failure);
        }
      } else {
        Duration backoff = kind.backoff(entry.attempt());
        long next = claimer.time.nowMillis() + backoff.toMillis();
        if (claimer.sql.retryAt(c, claim, journal.owner, next, error)) {
          journal.retried.increment();
          journal.log(
              Level.WARNING,
              entry
                  + " failed (of at most "
                  + kind.maxAttempts()
                  + "), retry in "
                  + backoff
                  + ": "
                  + error);
        }
      }
    } catch (SQLException e) {
      e.addSuppressed(failure);
      journal.log(
          Level.WARNING,
          entry + " failed, and recording it failed too; it runs again when its lease expires",
          e);
    }
  }

  /** Reports an entry that failed for good, once: counted, a JFR event, the failure handler. */
  private void report(Entry entry, Throwable failure) {
    JournalEvents.entryFailed(journal.name(), entry, failure);
    journal.failed.increment();
    claimer.failedForGood(); // after the event: a test that sees the count finds the event
    Journal.FailureHandler handler = journal.options.failureHandler().orElse(null);
    if (handler == null) {
      journal.log(
          Level.ERROR,
          entry + " failed for good after " + entry.attempt() + " attempts; marked FAILED",
          failure);
      return;
    }
    try {
      handler.failed(entry, failure);
    } catch (Throwable t) {
      t.addSuppressed(failure);
      journal.log(Level.ERROR, "the failure handler threw for " + entry, t);
    }
  }

  private static String describe(Throwable t) {
    String s = t.getClass().getName() + (t.getMessage() != null ? ": " + t.getMessage() : "");
    return s.length() <= 2000 ? s : s.substring(0, 1997) + "...";
  }
}
