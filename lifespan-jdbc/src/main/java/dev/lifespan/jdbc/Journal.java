package dev.lifespan.jdbc;

import dev.lifespan.App;
import dev.lifespan.Lifespan;
import dev.lifespan.jdbc.internal.JournalImpl;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Durable must-finish work: a journal of entries in the application's own database, written in the
 * caller's transaction and run after it commits, even after a crash (the transactional outbox).
 *
 * {@snippet :
 * Journal journal = Journal.create(dataSource, Journal.Options.named("journal"))
 *     .register(Kind.of("confirm-order", Orders::confirm));
 * App.runAndExit(App.Options.named("orders"), Lifespan.of(database, journal.lifespan(), http), null);
 *
 * // in a request handler:
 * try (Connection c = dataSource.getConnection()) {
 *     c.setAutoCommit(false);
 *     long id = insertOrder(c, order);
 *     Enqueued confirmation = journal.enqueue(c, "confirm-order", Long.toString(id), "");
 *     c.commit();                       // the order and its entry, or neither
 *     confirmation.start();             // run it now rather than at the next poll
 * }
 * }
 *
 * <h2>Entries</h2>
 *
 * An entry is a {@link Kind} (a name with a handler registered before the application is ready), a
 * key, unique within the kind, and a small text payload; enqueueing a kind and key that exist
 * already does nothing, whatever the entry's status, so a client's retry is one entry. Entries stay
 * in the table when done, so the key remains taken, unless the journal has a {@linkplain
 * Options#withRetention retention}: then, while it polls, it deletes done entries that long after
 * they were done, on the application's clock, at most 100 per poll, and their keys are free again.
 * Failed entries are never deleted.
 *
 * <h2>When an entry starts: the commit</h2>
 *
 * {@link #enqueue(Connection, String, String, String)} writes the entry through the caller's
 * connection, inside its transaction, and the journal cannot see that transaction commit. It learns
 * of the commit in two ways: the caller calls {@link Enqueued#start()} after the commit, which
 * claims and runs that entry now; and the journal polls its table every {@linkplain
 * Options#withPollInterval poll interval} (default 1 s) for pending entries, which finds every
 * committed entry even if {@code start()} is never called, the process died before it, or another
 * instance wrote the entry. An entry of a rolled-back transaction does not exist, so it never runs.
 * {@link #enqueueAndCommit} writes and commits the entry on a connection of its own and starts it.
 *
 * <h2>Running: claims and leases</h2>
 *
 * While the application is {@linkplain App.State#READY ready}, the journal claims due entries of
 * its kinds, at most {@linkplain Options#withMaxConcurrency max concurrency} at a time, and runs
 * each as a must-finish task of the application's background supervisor (see {@link Kind.Handler}).
 * A claim is a lease: the entry's row names this instance's {@linkplain Options#withOwner owner}
 * and an expiry ({@linkplain Options#withLease lease}, default 30 s), which is renewed every third
 * of the lease while the entry runs. An entry is claimed only when it is pending, due and not
 * leased — no lease, or an expired one — in one conditional update, so two live instances sharing a
 * database never run one entry at once; on PostgreSQL the claim is {@code UPDATE ... WHERE id IN
 * (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING ...}, on H2 a conditional update per candidate row.
 * The done mark is conditional on the same claim: a run whose lease was taken over (its instance
 * stalled past the lease) rolls back instead of marking the entry done. Lease times are read from
 * the application's clock ({@link App.Options#withClock}), as are the poll interval, the renewals
 * and the retry backoff, so a test on a fake clock controls them all.
 *
 * <h2>Recovery</h2>
 *
 * At startup the journal claims every pending entry that is due and not leased by a live instance.
 * Entries leased by an instance that died are claimed after their lease expired; entries leased to
 * this instance's own owner name (a restart with a stable {@link Options#withOwner owner}) are
 * taken back at once. Recovery can only run what the database kept: on H2, open the database with
 * {@code WRITE_DELAY=0} in its URL, or a crash may lose the last commits (business rows and entries
 * alike) that the application already reported as done to its clients.
 *
 * <h2>Failures</h2>
 *
 * A run that throws is rolled back and retried after the kind's backoff; when the entry was claimed
 * the kind's {@linkplain Kind#maxAttempts maximum} number of times, it is marked {@link
 * Entry.Status#FAILED} and reported once: to the {@linkplain Options#withFailureHandler failure
 * handler} (default: one {@code ERROR} record with the stack trace on the {@code System.Logger}
 * {@code dev.lifespan.jdbc}), as a JDK Flight Recorder event {@code dev.lifespan.jdbc.EntryFailed}
 * (journal, kind, key, attempts, the exception's class and message; nothing is computed unless a
 * recording was ever created in the JVM), and in the application's result: {@link
 * App.Result#durableFailed()} counts the entries failed for good in this run, and the last line
 * says so ({@code ...; 1 durable entry failed for good}). It does not change the application's
 * outcome. For metrics, {@link #pendingEntries()}, {@link #retriedRuns()} and {@link
 * #failedEntries()} count the entries pending in the table, the retried runs and the entries failed
 * for good. Each retried failure is one {@code WARNING} line on the logger. A database that cannot
 * be reached while polling or renewing is logged and tried again at the next interval.
 *
 * <h2>Shutdown</h2>
 *
 * The journal stops polling when readiness drops ({@link App.State#DRAINING}): it takes no more
 * work from its table, nor from instances that died. An entry that this instance {@linkplain
 * Enqueued#start() starts} during the drain (a request that was still in flight committed it) is
 * still claimed and run, as long as the application's background supervisor takes must-finish
 * tasks, which it does until the in-flight requests have ended; so a promise made while stopping is
 * kept in this run when the grace period allows. Running entries are must-finish tasks: they get
 * the application's grace period. An entry still running at its end is cancelled; its transaction
 * rolls back, its lease is released and it stays pending for the next start; the application counts
 * it as abandoned must-finish work. When the layer ends, the journal releases the leases it still
 * holds and counts the entries it left pending in the application's result ({@link
 * App.Result#durablePending()}), whose last line says so: {@code stopped 11000 ms after the
 * shutdown request: WORK_ABANDONED, exit code 4; 2 must-finish tasks abandoned at the end of the
 * grace period: ...; 2 durable entries left pending for the next start}. An entry left pending is
 * not lost, so it does not change the outcome by itself (the task cut while running it already
 * did). The journal also logs one line saying how many entries it left pending ({@code WARNING}),
 * or that it left none ({@code INFO}).
 *
 * <h2>Dumps</h2>
 *
 * A dump of the application ({@link App#dump}) lists the journal's entries under its layer: the
 * entries running in this instance ({@code RUNNING}, aged since their claim, from memory), then the
 * table's {@code FAILED} and {@code PENDING} entries (pending ones leased by other instances
 * included), oldest first, aged since they were enqueued on the database's clock; at most {@value
 * dev.lifespan.TaskDump#ENTRIES_LISTED} in all, and for each state whose entries are not all listed
 * one line counting the rest:
 *
 * <pre>
 * layer 'journal' OPEN 2.5 s
 *   supervisor 'orders/journal' RUNNING 2.5 s, 2 tasks
 *     ...
 *   entry 'confirm-order/7' RUNNING 1.2 s
 *   entry 'ship/9' FAILED 3600 s
 *   entry 'confirm-order/8' PENDING 850 ms
 *   ...
 *   more '99982' PENDING 2.0 s
 * </pre>
 *
 * The failed and pending entries are read by two bounded queries ({@code LIMIT}, a 5 s query
 * timeout), plus a count of the rest when they do not all fit, on a connection of the {@code
 * DataSource}, on the thread that takes the dump.
 *
 * <h2>Schema</h2>
 *
 * The table ({@linkplain Options#withTable default} {@code lifespan_journal}) and its indexes are
 * created on first use if they do not exist; teams that migrate with their own tool run the same
 * statements from the resource {@code dev/lifespan/jdbc/schema.sql} of this module. The SQL is
 * plain and runs on H2 (2.x) and PostgreSQL; other databases are refused with {@link
 * IllegalStateException}.
 *
 * <h2>Threads</h2>
 *
 * A journal is safe for use by any thread. It runs once: its {@link #lifespan()} layer may be run
 * by one application, one time.
 */
public sealed interface Journal permits JournalImpl {

  /** Lifecycle states, in order. */
  enum State {
    /** Created; kinds may be registered. */
    NEW,
    /** Its layer started (schema ready); kinds may still be registered until the app is ready. */
    STARTING,
    /** Claiming and running entries. */
    RUNNING,
    /** Readiness dropped: no more claims; running entries finish within the grace period. */
    DRAINING,
    /** Its layer ended. */
    STOPPED
  }

  /** Receives the entries that failed for good. */
  @FunctionalInterface
  interface FailureHandler {
    /**
     * Called once, on the entry's thread, after the entry was marked failed, with what its last run
     * threw. A handler that throws is logged.
     */
    void failed(Entry entry, Throwable failure);
  }

  /**
   * A journal over {@code dataSource}. Nothing is read or written until first use.
   *
   * @throws NullPointerException if an argument is null
   */
  static Journal create(DataSource dataSource, Options options) {
    Objects.requireNonNull(dataSource, "dataSource");
    Objects.requireNonNull(options, "options");
    return new JournalImpl(dataSource, options);
  }

  /** The journal's name, used for its layer, its tasks and its log lines. */
  String name();

  /** The owner name written into this instance's leases. */
  String owner();

  /** The journal's state. */
  State state();

  /**
   * Registers {@code kind}, so that entries of it can be enqueued and run. Any thread.
   *
   * @return this journal
   * @throws IllegalArgumentException if a kind of that name is registered already
   * @throws IllegalStateException if the journal is running or later (after the application became
   *     ready)
   */
  Journal register(Kind kind);

  /**
   * The journal as a layer of an application, named after the journal: creates the schema if
   * needed, claims and runs entries while the application is ready (as the class description says),
   * and when the application stops, releases the leases of entries it leaves pending and counts
   * them in the application's result ({@link App.Result#durablePending()}). Place it inside the
   * layer that owns the {@code DataSource}.
   *
   * <p>Running it fails the startup with {@link IllegalStateException} if it is not run by an
   * {@link App}, or a second time; with {@link SQLException} if the schema cannot be created.
   */
  Lifespan lifespan();

  /**
   * Writes an entry through {@code connection}, in its current transaction. The entry exists once
   * that transaction commits, and runs after that: call {@link Enqueued#start()} after the commit
   * to run it now, otherwise the next poll finds it. If the kind and key exist already, nothing is
   * written. Any thread; the journal need not be running (the entry then runs once it is).
   *
   * <p>The first call also creates the schema if needed, on a connection of its own (never in the
   * caller's transaction). This method does not commit, roll back or close {@code connection}. On
   * PostgreSQL, a duplicate key does not abort the caller's transaction ({@code ON CONFLICT DO
   * NOTHING}).
   *
   * @param kind the name of a registered kind
   * @param key the idempotency key, at most {@value #MAX_KEY_LENGTH} characters
   * @param payload small text, at most {@value #MAX_PAYLOAD_LENGTH} characters; may be empty
   * @throws IllegalArgumentException if the kind is not registered, the key is blank or too long,
   *     or the payload too long
   * @throws SQLException what the database threw
   */
  Enqueued enqueue(Connection connection, String kind, String key, String payload)
      throws SQLException;

  /**
   * Writes an entry and commits it on a connection of the journal's own, then {@linkplain
   * Enqueued#start() starts} it; for callers without a transaction. Otherwise as {@link
   * #enqueue(Connection, String, String, String)}.
   */
  Enqueued enqueueAndCommit(String kind, String key, String payload) throws SQLException;

  /**
   * The committed status of the entry of {@code kind} and {@code key}; empty if there is none.
   *
   * @throws SQLException what the database threw
   */
  Optional<Entry.Status> status(String kind, String key) throws SQLException;

  /**
   * How many entries of the journal's table are pending: not yet done and not failed for good,
   * whichever instance enqueued them, including those running now (here or in another instance) and
   * those waiting for a retry. For a metrics gauge: one {@code SELECT COUNT(*)} on a connection of
   * the {@code DataSource}, on the calling thread, with a 5 s query timeout; it creates the schema
   * if needed, like any first use. Any thread, whatever the journal's state.
   *
   * @throws SQLException what the database threw
   */
  long pendingEntries() throws SQLException;

  /**
   * How many runs of an entry failed and were given another attempt (after the kind's backoff) by
   * this journal since it was created: one per {@code WARNING} line "failed (of at most N), retry
   * in ...". A run cut by the end of the grace period is not counted: it was not a failure. From
   * memory; any thread.
   */
  long retriedRuns();

  /**
   * How many entries this journal marked {@link Entry.Status#FAILED} since it was created: each
   * counted once, when it is reported to the failure handler (the same count as {@link
   * App.Result#durableFailed()} of the application that ran it). From memory; any thread.
   */
  long failedEntries();

  /** Longest key, in characters. */
  int MAX_KEY_LENGTH = 500;

  /** Longest payload, in characters. */
  int MAX_PAYLOAD_LENGTH = 16384;

  /** The result of an enqueue: whether it wrote a new entry, and a way to start it now. */
  sealed interface Enqueued permits JournalImpl.EnqueuedImpl {
    /** Whether this call wrote the entry; false if the kind and key existed already. */
    boolean isNew();

    /**
     * Tells the journal that the transaction that wrote the entry has committed: the journal claims
     * this entry now, instead of at its next poll, and runs it as a must-finish task of the
     * application's background supervisor; also during the drain, when the journal no longer polls
     * (see the class description). While the application is ready, the claim loop does it, and
     * claims with it every other due entry it has room for, oldest first, in one statement. With
     * {@linkplain Options#withMaxConcurrency max concurrency} reached, or older due entries taking
     * the room, the entry waits for the next free place instead. Returns at once; idempotent; any
     * thread. Calling it before the commit or after a rollback is harmless: the entry is then found
     * by a later poll, or never. Does nothing before the application is ready (its first poll finds
     * the entry) or after its background supervisor stopped taking tasks (the entry stays pending
     * for the next start).
     */
    void start();
  }

  /**
   * How a journal works. Immutable; each {@code with} method returns a copy. The canonical
   * constructor checks its components as the {@code with} methods check their arguments.
   *
   * @param name the journal's name, not blank
   * @param table the table, an unquoted SQL identifier of at most 40 characters
   * @param owner the owner name written into leases, 1 to 200 characters, not blank; empty for a
   *     name generated at each start
   * @param lease how long a claim lasts unless renewed; at least 3 ms
   * @param pollInterval how often the journal looks for due entries when nothing wakes it; positive
   * @param maxConcurrency the maximum number of entries running at once; at least 1
   * @param failureHandler where failed entries go; empty for the log
   * @param retention how long done entries are kept; empty if forever (the default); positive
   */
  record Options(
      String name,
      String table,
      Optional<String> owner,
      Duration lease,
      Duration pollInterval,
      int maxConcurrency,
      Optional<FailureHandler> failureHandler,
      Optional<Duration> retention) {
    private static final Pattern TABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,39}");

    /**
     * Checks the components.
     *
     * @throws IllegalArgumentException if a component is out of its range
     */
    public Options {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) throw new IllegalArgumentException("Journal name is blank");
      Objects.requireNonNull(table, "table");
      if (!TABLE.matcher(table).matches()) {
        throw invalid(
            name,
            "table is not an unquoted SQL identifier of at most 40 characters: '" + table + "'");
      }
      Objects.requireNonNull(owner, "owner");
      if (owner.isPresent() && (owner.get().isBlank() || owner.get().length() > 200)) {
        throw invalid(name, "owner must be 1 to 200 characters, not blank: '" + owner.get() + "'");
      }
      Objects.requireNonNull(lease, "lease");
      if (lease.compareTo(Duration.ofMillis(3)) < 0) {
        throw invalid(name, "lease must be at least 3 ms: " + lease);
      }
      Objects.requireNonNull(pollInterval, "pollInterval");
      if (pollInterval.isNegative() || pollInterval.isZero()) {
        throw invalid(name, "pollInterval must be positive: " + pollInterval);
      }
      if (maxConcurrency < 1) throw invalid(name, "maxConcurrency < 1: " + maxConcurrency);
      Objects.requireNonNull(failureHandler, "failureHandler");
      Objects.requireNonNull(retention, "retention");
      if (retention.isPresent() && (retention.get().isNegative() || retention.get().isZero())) {
        throw invalid(name, "retention must be positive: " + retention.get());
      }
    }

    /**
     * Default options for a journal called {@code name}: table {@code lifespan_journal}, a
     * generated owner, a 30 s lease, a 1 s poll interval, at most 64 entries running at once, done
     * entries kept forever.
     *
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public static Options named(String name) {
      return new Options(
          name,
          "lifespan_journal",
          Optional.empty(),
          Duration.ofSeconds(30),
          Duration.ofSeconds(1),
          64,
          Optional.empty(),
          Optional.empty());
    }

    /**
     * A copy that keeps entries in {@code table} (an unquoted SQL identifier: a letter or {@code
     * _}, then letters, digits or {@code _}, at most 40 characters).
     *
     * @throws IllegalArgumentException if {@code table} is not such an identifier
     */
    public Options withTable(String table) {
      return new Options(
          name, table, owner, lease, pollInterval, maxConcurrency, failureHandler, retention);
    }

    /**
     * A copy whose leases name {@code owner}, a stable name of this instance (a host or pod name),
     * instead of a name generated at each start. At startup, entries still leased to {@code owner}
     * are taken back at once: they were leased by this instance's previous run, which died. Two
     * live instances must never share an owner name.
     *
     * @throws IllegalArgumentException if {@code owner} is blank or longer than 200 characters
     */
    public Options withOwner(String owner) {
      Objects.requireNonNull(owner, "owner");
      return new Options(
          name,
          table,
          Optional.of(owner),
          lease,
          pollInterval,
          maxConcurrency,
          failureHandler,
          retention);
    }

    /**
     * A copy whose claims last {@code lease} unless renewed; they are renewed every third of it. A
     * dead instance's entries are taken over this long after its last renewal.
     *
     * @throws IllegalArgumentException if {@code lease} is shorter than 3 ms
     */
    public Options withLease(Duration lease) {
      return new Options(
          name, table, owner, lease, pollInterval, maxConcurrency, failureHandler, retention);
    }

    /**
     * A copy that looks for due entries every {@code interval} when nothing wakes it.
     *
     * @throws IllegalArgumentException if {@code interval} is not positive
     */
    public Options withPollInterval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      return new Options(
          name, table, owner, lease, interval, maxConcurrency, failureHandler, retention);
    }

    /**
     * A copy that runs at most {@code max} entries at once (and holds at most that many leases).
     *
     * @throws IllegalArgumentException if {@code max < 1}
     */
    public Options withMaxConcurrency(int max) {
      return new Options(name, table, owner, lease, pollInterval, max, failureHandler, retention);
    }

    /** A copy whose failed entries go to {@code handler} instead of the log. */
    public Options withFailureHandler(FailureHandler handler) {
      Objects.requireNonNull(handler, "handler");
      return new Options(
          name, table, owner, lease, pollInterval, maxConcurrency, Optional.of(handler), retention);
    }

    /**
     * A copy that deletes done entries {@code retention} after they were done, on the application's
     * clock: while the journal polls, each poll deletes at most 100 of them, oldest first. A
     * deleted entry's key is free again, so an enqueue of the same kind and key after that writes a
     * new entry, which runs again: choose a retention longer than any client retries a request, and
     * longer than the deduplication the application relies on. Failed entries are never deleted;
     * pending ones are never deleted. By default done entries are kept forever: the key stays
     * taken, which is the safe choice for idempotency, and the table grows by one row per entry.
     *
     * @throws IllegalArgumentException if {@code retention} is not positive
     */
    public Options withRetention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      return new Options(
          name,
          table,
          owner,
          lease,
          pollInterval,
          maxConcurrency,
          failureHandler,
          Optional.of(retention));
    }

    private static IllegalArgumentException invalid(String name, String condition) {
      return new IllegalArgumentException(condition + " (journal '" + name + "')");
    }

    @Override
    public String toString() {
      return "Journal.Options["
          + name
          + ", table="
          + table
          + owner.map(o -> ", owner=" + o).orElse("")
          + ", lease="
          + lease
          + ", pollInterval="
          + pollInterval
          + ", maxConcurrency="
          + maxConcurrency
          + retention.map(r -> ", retention=" + r).orElse("")
          + "]";
    }
  }
}
