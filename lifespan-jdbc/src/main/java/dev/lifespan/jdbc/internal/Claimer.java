package dev.lifespan.jdbc.internal;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.Supervisor;
import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The running journal of one application: the claim loop, the lease renewal loop, and the count of
 * entries in flight. Both loops are ordinary tasks of the journal layer's supervisor, which shuts
 * down after the background supervisor where the entries run, so leases are renewed through the
 * grace period.
 */
public final class Claimer {
  private static final Duration FOREVER = Duration.ofDays(365);

  final JournalImpl journal;
  final Sql sql;
  final App app;
  final AppTime time;
  private final long leaseMillis;

  /** Claimed entries whose run has not ended; never more than maxConcurrency. */
  private final AtomicInteger inFlight = new AtomicInteger();

  /** Entries released for the next start at shutdown, by their runs or by the final sweep. */
  final AtomicInteger leftPending = new AtomicInteger();

  /** Completed claim queries; for tests. */
  private final AtomicLong polls = new AtomicLong();

  private final Object lock = new Object();
  private boolean woken; // guarded by lock: a wake-up not yet consumed by a wait
  private CancelScope waiting; // guarded by lock: the scope of the claim loop's wait, if waiting

  private volatile Supervisor background; // the application's, read by the claim loop when ready

  /** Whether the claim loop runs: while it does, start() leaves its entry to the loop. */
  private volatile boolean loopClaims;

  /** start() calls left to the claim loop since its last claim. */
  private final AtomicInteger startsForLoop = new AtomicInteger();

  private volatile List<String> kinds = List.of();

  Claimer(JournalImpl journal, Sql sql, App app, AppTime time) {
    this.journal = journal;
    this.sql = sql;
    this.app = app;
    this.time = time;
    this.leaseMillis = journal.options.lease().toMillis();
  }

  /** At startup with a stable owner: releases the leases this owner's previous run left. */
  void takeBack() throws SQLException {
    try (Connection c = journal.dataSource.getConnection()) {
      c.setAutoCommit(true);
      int n = sql.releaseAll(c, journal.owner);
      if (n > 0) {
        journal.log(
            Level.INFO, "took back " + n + " entries leased by owner '" + journal.owner + "'");
      }
    }
  }

  // ---- claiming

  /** The claim loop: from readiness until readiness drops. */
  void claimLoop() throws InterruptedException {
    if (!app.awaitReady()) return;
    background = Supervisor.background();
    kinds = journal.startRunning();
    try {
      if (kinds.isEmpty()) {
        journal.log(Level.INFO, "no kinds registered: nothing to claim");
        return;
      }
      int max = journal.options.maxConcurrency();
      loopClaims = true;
      while (app.state() == App.State.READY) {
        Instant started = time.now();
        int room = max - inFlight.get();
        startsForLoop.set(0); // this claim takes every entry started so far, if there is room
        int claimed = room > 0 ? claimAndRun(room) : 0;
        polls.incrementAndGet();
        if (claimed > 0 && claimed == room) continue; // more may be due
        // Absolute, from the poll's start: a wait that begins late does not push the next poll.
        awaitUntil(started.plus(journal.options.pollInterval()));
      }
      loopClaims = false;
      // Entries started just before readiness dropped and left to this loop are claimed now, as
      // start() promises during the drain (a start() from here on claims by key itself).
      int room = max - inFlight.get();
      if (startsForLoop.getAndSet(0) > 0 && room > 0) claimAndRun(room);
    } finally {
      loopClaims = false;
      journal.draining();
    }
  }

  /** Claims at most {@code room} entries and starts them; returns how many it claimed. */
  private int claimAndRun(int room) {
    List<Sql.Claim> claims;
    long now = time.nowMillis();
    try (Connection c = journal.dataSource.getConnection()) {
      c.setAutoCommit(true);
      claims = sql.claim(c, journal.owner, now, now + leaseMillis, kinds, room);
    } catch (SQLException e) {
      journal.log(Level.WARNING, "claiming failed; trying again at the next poll: " + e);
      return 0;
    }
    inFlight.addAndGet(claims.size());
    for (Sql.Claim k : claims) {
      EntryRun run = new EntryRun(this, k);
      try {
        background.spawnMustFinish(run.taskName(), run::run);
      } catch (IllegalStateException shuttingDown) {
        releaseForNextStart(k);
        ended();
      }
    }
    return claims.size();
  }

  /**
   * {@link dev.lifespan.jdbc.Journal.Enqueued#start()}: while the claim loop runs, wakes it, so
   * that it claims now every due entry it has room for, this one included unless older due entries
   * fill the room; once readiness has dropped (a request still in flight made the promise), claims
   * and runs the entry of {@code kind} and {@code key} itself, in a must-finish task of the
   * background supervisor, or with max concurrency reached, wakes the claim loop instead. Does
   * nothing before the application is ready (the first poll finds the entry) or once the background
   * supervisor takes no more tasks (the entry stays pending for the next start). Any thread;
   * returns at once.
   */
  void start(String kind, String key) {
    Supervisor bg = background;
    if (bg == null) return;
    if (loopClaims) {
      // While ready, the claim loop claims it, with whatever else is due, in one statement and one
      // commit per batch (a claim of its own per entry cost a third commit per entry). Readiness
      // may drop meanwhile: then the loop's end, or the code below, claims it.
      startsForLoop.incrementAndGet();
      wake();
      if (loopClaims) return;
    }
    if (inFlight.incrementAndGet() > journal.options.maxConcurrency()) {
      inFlight.decrementAndGet();
      wake();
      return;
    }
    try {
      bg.spawnMustFinish(EntryRun.taskName(journal, kind, key), () -> claimAndRun(kind, key));
    } catch (IllegalStateException shuttingDown) {
      inFlight.decrementAndGet();
    }
  }

  /** The body of a {@link #start} task; counted in flight by its caller. */
  private void claimAndRun(String kind, String key) {
    Sql.Claim k;
    try {
      k =
          CancelScope.call(
              CancelScope.Options.named("journal claim").shielded(),
              s -> {
                long now = time.nowMillis();
                try (Connection c = journal.dataSource.getConnection()) {
                  c.setAutoCommit(false);
                  try {
                    Sql.Claim claim =
                        sql.claimKey(c, journal.owner, now, now + leaseMillis, kind, key);
                    c.commit();
                    return claim;
                  } catch (SQLException | RuntimeException e) {
                    rollbackQuietly(c, e);
                    throw e;
                  }
                }
              });
    } catch (SQLException e) {
      ended();
      journal.log(
          Level.WARNING, "claiming " + kind + "/" + key + " failed; a later poll finds it: " + e);
      return;
    }
    if (k == null) { // done, claimed by another run, not committed (yet), or not due
      ended();
      return;
    }
    new EntryRun(this, k).run(); // ends with ended()
  }

  /** Wakes the claim loop to claim now. Any thread; returns at once. */
  public void wake() {
    CancelScope s;
    synchronized (lock) {
      woken = true;
      s = waiting;
    }
    if (s != null) s.cancel("woken");
  }

  /** Waits until {@code deadline} on the application's clock, or until woken. */
  private void awaitUntil(Instant deadline) {
    CancelScope.run(
        CancelScope.Options.named("journal '" + journal.name() + "' poll wait")
            .withDeadline(deadline),
        s -> {
          synchronized (lock) {
            if (woken) {
              woken = false;
              return;
            }
            waiting = s;
          }
          try {
            CancelScope.sleep(FOREVER);
          } finally {
            synchronized (lock) {
              waiting = null;
              woken = false;
            }
          }
        });
  }

  /** A run ended (or never started); wakes the claim loop if it was full. */
  void ended() {
    if (inFlight.getAndDecrement() == journal.options.maxConcurrency()) wake();
  }

  // ---- leases

  /** The renewal loop: every third of the lease, extends the leases of the entries in flight. */
  void renewLoop() {
    Duration every = journal.options.lease().dividedBy(3);
    Instant next = time.now().plus(every);
    while (true) {
      Instant due = next;
      CancelScope.run(
          CancelScope.Options.DEFAULT.withDeadline(due), s -> CancelScope.sleep(FOREVER));
      Instant now = time.now();
      next = due.plus(every).isAfter(now) ? due.plus(every) : now.plus(every); // no catching up
      if (inFlight.get() == 0) continue;
      try (Connection c = journal.dataSource.getConnection()) {
        c.setAutoCommit(true);
        sql.renew(c, journal.owner, now.toEpochMilli() + leaseMillis);
      } catch (SQLException e) {
        journal.log(Level.WARNING, "renewing leases failed; trying again: " + e);
      }
    }
  }

  /**
   * Releases {@code k}'s lease so that the next start (or another instance) runs it, in a shield
   * (the caller may be cancelled); counts it as left pending.
   */
  void releaseForNextStart(Sql.Claim k) {
    CancelScope.run(
        CancelScope.Options.named("journal release").shielded(),
        s -> {
          try (Connection c = journal.dataSource.getConnection()) {
            c.setAutoCommit(true);
            if (sql.release(c, k, journal.owner)) leftPending.incrementAndGet();
          } catch (SQLException e) {
            journal.log(
                Level.WARNING,
                "releasing " + k.entry() + " failed; it runs again when its lease expires: " + e);
          }
        });
  }

  /** At the layer's end: releases every lease left, and says how many entries stay pending. */
  void stopped() {
    try (Connection c = journal.dataSource.getConnection()) {
      c.setAutoCommit(true);
      leftPending.addAndGet(sql.releaseAll(c, journal.owner));
    } catch (SQLException e) {
      journal.log(
          Level.WARNING,
          "releasing leases at shutdown failed; they expire in "
              + journal.options.lease()
              + ": "
              + e);
    }
    int n = leftPending.get();
    if (n == 0) {
      journal.log(Level.INFO, "stopped; no entry left pending by this instance");
    } else {
      journal.log(
          Level.WARNING,
          n
              + (n == 1 ? " durable entry" : " durable entries")
              + " left pending for the next start (leases released)");
    }
  }

  static void rollbackQuietly(Connection c, Throwable cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  // ---- for tests of this module

  /** How many claim queries have completed. */
  public long polls() {
    return polls.get();
  }

  /** How many claimed entries have not ended their run. */
  public int inFlight() {
    return inFlight.get();
  }

  /** How many entries were left pending at shutdown. */
  public int leftPending() {
    return leftPending.get();
  }
}
