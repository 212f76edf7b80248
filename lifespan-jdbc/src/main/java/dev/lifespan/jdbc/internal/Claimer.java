package dev.lifespan.jdbc.internal;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.Lifespan;
import dev.lifespan.Supervisor;
import dev.lifespan.TaskDump;
import dev.lifespan.jdbc.Entry;
import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The running journal of one application: the claim loop, the lease renewal loop, and the count of
 * entries in flight. Both loops are ordinary tasks of the journal layer's supervisor, which shuts
 * down after the background supervisor where the entries run, so leases are renewed through the
 * grace period.
 *
 * <p>What the journal reports to its layer's context: the entries it leaves pending at shutdown and
 * those that failed for good (the application's result counts them), and its entries in dumps
 * ({@link #dumpEntries}).
 */
public final class Claimer {
  private static final Duration FOREVER = Duration.ofDays(365);

  private static final CancelScope.Options CLAIM =
      CancelScope.Options.named("journal claim").withoutInterrupts();

  /** At most how many done entries one poll deletes (the retention). */
  static final int PURGE_BATCH = 100;

  final JournalImpl journal;
  final Sql sql;
  final App app;
  final AppTime time;
  private final Lifespan.Context layer;
  private final long leaseMillis;
  private final long retentionMillis; // -1: keep done entries

  /** Claimed entries whose run has not ended, by row id, with System.nanoTime() of the claim. */
  private final Map<Long, Running> running = new ConcurrentHashMap<>();

  private record Running(Entry entry, long claimedAt) {}

  /** Entries that failed for good in this run. */
  private final AtomicInteger failedForGood = new AtomicInteger();

  /** Done entries deleted by the retention. */
  private final AtomicLong purged = new AtomicLong();

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

  /**
   * Started entries, as {kind, key}, that no claim is known to have taken: those started since the
   * claim loop's last claim, those its claims left out because they had no room for them (max
   * concurrency reached, or older due entries filling the room), and those started during the drain
   * that found no place. When readiness drops, each runs as places free up unless a claim took it
   * meanwhile: a run that ends carries on with a waiting entry in its own task ({@link
   * #thenWaiting}), so that entries still run once the background supervisor takes no more tasks
   * (its shutdown gives the tasks it has the grace period). What is still waiting when the journal
   * stops is counted as left pending ({@link #stopped()}). While ready, a claim with room to spare
   * empties it (it took every due entry); so it holds at most the backlog of started entries.
   */
  private final ConcurrentLinkedQueue<String[]> waitingStarts = new ConcurrentLinkedQueue<>();

  /** Started entries whose claim by key failed or was cancelled: pending, counted at the stop. */
  private final ConcurrentLinkedQueue<String[]> unclaimed = new ConcurrentLinkedQueue<>();

  private volatile List<String> kinds = List.of();

  Claimer(JournalImpl journal, Sql sql, App app, AppTime time, Lifespan.Context layer) {
    this.journal = journal;
    this.sql = sql;
    this.app = app;
    this.time = time;
    this.layer = layer;
    this.leaseMillis = journal.options.lease().toMillis();
    this.retentionMillis = journal.options.retention().map(Duration::toMillis).orElse(-1L);
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
        List<String[]> starts = takeStarts(); // this claim takes them, if it has room for them
        List<Sql.Claim> claims = room > 0 ? claimAndRun(room) : List.of();
        // A claim that failed, had no room or filled it may have left some out; one with room to
        // spare took every due entry.
        if (claims == null || claims.size() >= room) keepUnclaimed(starts, claims);
        if (claims == null) claims = List.of();
        if (retentionMillis >= 0) purge();
        polls.incrementAndGet();
        if (!claims.isEmpty() && claims.size() == room) continue; // more may be due
        // Absolute, from the poll's start: a wait that begins late does not push the next poll.
        awaitUntil(started.plus(journal.options.pollInterval()));
      }
      loopClaims = false;
      // Entries started while ready that no claim took run now, as start() promises during the
      // drain, as places free up (one a claim took meanwhile is skipped); a start() from here on
      // claims by key itself.
      startWaiting(background);
    } finally {
      loopClaims = false;
      journal.draining();
    }
  }

  /** The started entries no claim is known to have taken; empties {@link #waitingStarts}. */
  private List<String[]> takeStarts() {
    List<String[]> starts = new ArrayList<>();
    for (String[] s; (s = waitingStarts.poll()) != null; ) starts.add(s);
    return starts;
  }

  /** Puts back the entries of {@code starts} that none of {@code claims} (null: none) took. */
  private void keepUnclaimed(List<String[]> starts, List<Sql.Claim> claims) {
    for (String[] s : starts) {
      boolean taken = false;
      for (Sql.Claim k : claims == null ? List.<Sql.Claim>of() : claims) {
        if (k.entry().kind().equals(s[0]) && k.entry().key().equals(s[1])) {
          taken = true;
          break;
        }
      }
      if (!taken) waitingStarts.add(s);
    }
  }

  /**
   * Claims at most {@code room} entries and starts them; returns what it claimed, or null if the
   * claim failed.
   */
  private List<Sql.Claim> claimAndRun(int room) {
    List<Sql.Claim> claims;
    try (Connection c = journal.dataSource.getConnection()) {
      long now = time.nowMillis(); // after the connection: a slow pool must not shorten the lease
      c.setAutoCommit(true);
      claims = sql.claim(c, journal.owner, now, now + leaseMillis, kinds, room);
    } catch (SQLException e) {
      journal.log(Level.WARNING, "claiming failed; trying again at the next poll: " + e);
      return null;
    }
    inFlight.addAndGet(claims.size());
    for (Sql.Claim k : claims) {
      EntryRun run = new EntryRun(this, k);
      if (!spawnRun(background, run.taskName(), () -> thenWaiting(run::run))) {
        releaseForNextStart(k);
        ended(k);
      }
    }
    return claims;
  }

  /**
   * {@link dev.lifespan.jdbc.Journal.Enqueued#start()}: while the claim loop runs, wakes it, so
   * that it claims now every due entry it has room for, this one included unless older due entries
   * fill the room; once readiness has dropped (a request still in flight made the promise), claims
   * and runs the entry of {@code kind} and {@code key} itself, in a must-finish task of the
   * background supervisor, or with max concurrency reached, once a run ends and frees a place. Does
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
      waitingStarts.add(new String[] {kind, key});
      wake();
      if (loopClaims) return;
    } else {
      waitingStarts.add(new String[] {kind, key});
    }
    startWaiting(bg); // a place freed before the add is taken here, later ones by ended()
  }

  /** Starts waiting entries while there is room; see {@link #waitingStarts}. */
  private void startWaiting(Supervisor bg) {
    for (String[] next; (next = nextWaiting()) != null; ) {
      String[] entry = next;
      if (!spawnRun(
          bg,
          EntryRun.taskName(journal, entry[0], entry[1]),
          () -> thenWaiting(() -> claimAndRun(entry[0], entry[1])))) {
        // A run in flight may still take it when it ends; if none does, stopped() counts it.
        waitingStarts.add(next);
        inFlight.decrementAndGet();
        return;
      }
    }
  }

  /**
   * Spawns a must-finish task that runs entries: in the application's background supervisor, or,
   * once that one takes no more tasks (its shutdown began while a request that got its answer was
   * still starting an entry), in the journal layer's supervisor, which shuts down after it and
   * gives its must-finish tasks the same grace period. Returns false if neither takes it.
   */
  private boolean spawnRun(Supervisor bg, String name, dev.lifespan.CheckedRunnable body) {
    try {
      bg.spawnMustFinish(name, body);
      return true;
    } catch (IllegalStateException backgroundStopping) {
      try {
        layer.supervisor().spawnMustFinish(name, body);
        return true;
      } catch (IllegalStateException layerStopping) {
        return false;
      }
    }
  }

  /**
   * The body of every task that runs entries: {@code first} (counted in flight by the caller, it
   * ends with {@link #ended()}), then, once readiness has dropped, waiting entries in the place it
   * freed, one after another, while there are any and a place is free. The check for waiting
   * entries comes after the end's decrement, and {@link #start} adds before it looks for a place:
   * so either the start finds the place or the run finds the entry.
   */
  private void thenWaiting(Runnable first) {
    first.run();
    for (String[] next; !loopClaims && (next = nextWaiting()) != null; ) {
      claimAndRun(next[0], next[1]); // ends with ended(); throws the task's cancellation
    }
  }

  /**
   * A waiting entry, with a place taken for it (counted in flight), or null if none waits or no
   * place is free (the run that holds one takes it when it ends).
   */
  private String[] nextWaiting() {
    if (waitingStarts.isEmpty()) return null;
    if (inFlight.incrementAndGet() > journal.options.maxConcurrency()) {
      inFlight.decrementAndGet();
      return null;
    }
    String[] next = waitingStarts.poll();
    if (next == null) inFlight.decrementAndGet();
    return next;
  }

  /**
   * The body of a {@link #start} task; counted in flight by its caller.
   *
   * <p>The claim runs in a scope without interrupts, not in a shield: it need not finish (an entry
   * not claimed stays pending for a later poll or the next start), but an interrupt must not reach
   * the driver (an interrupt in an embedded H2's file I/O closes the database; on a virtual thread,
   * it closes a network driver's socket). Its statements are short and run to their end; the task's
   * cancellation (the end of the grace period) then comes out of the scope, and a claim committed
   * meanwhile is released at once for the next start.
   */
  private void claimAndRun(String kind, String key) {
    Sql.Claim[] claimed = new Sql.Claim[1];
    try {
      CancelScope.run(
          CLAIM,
          s -> {
            CancelScope.checkpoint(); // cancelled already: nothing is claimed
            try (Connection c = journal.dataSource.getConnection()) {
              long now = time.nowMillis(); // after the connection, as in claimAndRun
              c.setAutoCommit(false);
              try {
                Sql.Claim claim = sql.claimKey(c, journal.owner, now, now + leaseMillis, kind, key);
                c.commit();
                claimed[0] = claim;
              } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c, e);
                throw e;
              }
            }
          });
    } catch (SQLException e) {
      unclaimed.add(new String[] {kind, key});
      ended();
      journal.log(
          Level.WARNING,
          "claiming " + kind + "/" + key + " failed; it stays pending for a later claim: " + e);
      return;
    } catch (RuntimeException | Error e) { // the cancellation, or a driver's unchecked failure
      if (claimed[0] != null) releaseForNextStart(claimed[0]);
      else unclaimed.add(new String[] {kind, key});
      ended();
      throw e;
    }
    Sql.Claim k = claimed[0];
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

  /** {@code k} was claimed and is about to run. */
  void running(Sql.Claim k) {
    running.put(k.id(), new Running(k.entry(), System.nanoTime()));
  }

  /** The run of {@code k} ended (or never started). */
  void ended(Sql.Claim k) {
    running.remove(k.id());
    ended();
  }

  /**
   * A run ended (or never started); wakes the claim loop if it was full. Its task then carries on
   * with waiting entries ({@link #thenWaiting}).
   */
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
        // from the time read after the connection was had, as for claims
        sql.renew(c, journal.owner, time.nowMillis() + leaseMillis);
      } catch (SQLException e) {
        journal.log(Level.WARNING, "renewing leases failed; trying again: " + e);
      }
    }
  }

  /**
   * Releases {@code k}'s lease so that the next start (or another instance) runs it; counts it as
   * left pending.
   *
   * <p>In a shield, because it must finish: the caller is usually being cancelled (the grace period
   * ended), and a release that did not happen leaves the entry to wait for its lease to expire. The
   * shield also clears the interrupt of that cancellation, which must not reach the driver.
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

  /** An entry failed for good: counted here and in the application's result. */
  void failedForGood() {
    failedForGood.incrementAndGet();
    layer.addDurableFailed(1);
  }

  // ---- retention

  /** Deletes one batch of done entries older than the retention. */
  private void purge() {
    long before = time.nowMillis() - retentionMillis;
    try (Connection c = journal.dataSource.getConnection()) {
      c.setAutoCommit(true);
      purged.addAndGet(sql.purgeDone(c, before, PURGE_BATCH));
    } catch (SQLException e) {
      journal.log(
          Level.WARNING, "deleting done entries failed; trying again at the next poll: " + e);
    }
  }

  // ---- dumps

  /**
   * The journal's entries for a dump of the application, at most {@code limit}: those running here
   * (from memory, aged since their claim), then those failed and pending (one bounded query each,
   * oldest first, aged since they were enqueued on the database's clock; pending ones leased by
   * other instances included), each state's rest counted in a more node.
   */
  List<TaskDump.Node> dumpEntries(int limit) throws SQLException {
    long now = System.nanoTime();
    List<Running> runs = new ArrayList<>(running.values());
    runs.sort((a, b) -> Long.compare(a.claimedAt(), b.claimedAt()));
    List<TaskDump.Node> out = new ArrayList<>();
    int i = 0;
    for (; i < runs.size() && out.size() < limit; i++) {
      Running r = runs.get(i);
      out.add(
          TaskDump.Node.entry(
              name(r.entry().kind(), r.entry().key()),
              "RUNNING",
              Duration.ofNanos(now - r.claimedAt())));
    }
    if (i < runs.size()) {
      out.add(
          TaskDump.Node.more(
              runs.size() - i, "RUNNING", Duration.ofNanos(now - runs.get(i).claimedAt())));
    }
    try (Connection c = journal.dataSource.getConnection()) {
      c.setAutoCommit(true);
      listed(c, "FAILED", limit, out);
      listed(c, "PENDING", limit, out);
    }
    return out;
  }

  /** Adds the entries of {@code status} that fit in {@code limit}, and a more node for the rest. */
  private void listed(Connection c, String status, int limit, List<TaskDump.Node> out)
      throws SQLException {
    int room = Math.max(0, limit - entries(out));
    List<Sql.Listed> got = sql.list(c, status, journal.owner, room + 1);
    for (int i = 0; i < got.size() && i < room; i++) {
      Sql.Listed l = got.get(i);
      out.add(
          TaskDump.Node.entry(name(l.kind(), l.key()), status, Duration.ofMillis(l.ageMillis())));
    }
    if (got.size() > room) {
      long rest = sql.count(c, status, journal.owner) - room;
      Duration oldest = Duration.ofMillis(got.get(room).ageMillis());
      if (rest > 0) out.add(TaskDump.Node.more(rest, status, oldest));
    }
  }

  private static int entries(List<TaskDump.Node> nodes) {
    int n = 0;
    for (TaskDump.Node x : nodes) if (x.kind() == TaskDump.Kind.ENTRY) n++;
    return n;
  }

  private static String name(String kind, String key) {
    return kind + "/" + key;
  }

  /** At the layer's end: releases every lease left, and says how many entries stay pending. */
  void stopped() {
    try (Connection c = journal.dataSource.getConnection()) {
      c.setAutoCommit(true);
      leftPending.addAndGet(sql.releaseAll(c, journal.owner));
      // started entries that found no place before the grace period ended: not leased, pending
      Set<List<String>> waiting = new HashSet<>();
      for (String[] w; (w = waitingStarts.poll()) != null; ) waiting.add(List.of(w));
      for (String[] w; (w = unclaimed.poll()) != null; ) waiting.add(List.of(w));
      for (List<String> w : waiting) {
        if (sql.status(c, w.get(0), w.get(1)).orElse(null) == Entry.Status.PENDING) {
          leftPending.incrementAndGet();
        }
      }
    } catch (SQLException e) {
      journal.log(
          Level.WARNING,
          "releasing leases at shutdown failed; they expire in "
              + journal.options.lease()
              + ": "
              + e);
    }
    int n = leftPending.get();
    layer.addDurablePending(n);
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

  /** How many entries failed for good. */
  public int failed() {
    return failedForGood.get();
  }

  /** At most how many done entries one poll deletes. */
  public static int purgeBatch() {
    return PURGE_BATCH;
  }

  /** How many done entries the retention deleted. */
  public long purged() {
    return purged.get();
  }
}
