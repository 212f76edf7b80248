package dev.lifespan.jdbc.internal;

import dev.lifespan.App;
import dev.lifespan.Lifespan;
import dev.lifespan.jdbc.Entry;
import dev.lifespan.jdbc.Journal;
import dev.lifespan.jdbc.Kind;
import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;

/**
 * The journal: its registry of kinds, enqueueing, and its layer. The running part (claims, leases,
 * entry runs) is a {@link Claimer}, made when the layer starts.
 */
public final class JournalImpl implements Journal {
  static final System.Logger LOG = System.getLogger("dev.lifespan.jdbc");

  final DataSource dataSource;
  final Options options;
  final String owner;
  private final Map<String, Kind> kinds = new ConcurrentHashMap<>();

  // NEW -> STARTING -> RUNNING -> DRAINING -> STOPPED; STARTING -> STOPPED if never ready.
  // Written by the layer (runner thread) and the claimer; read by anyone.
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);

  private volatile Sql sql; // set once, under this, by the first use

  /** Failed runs given another attempt, and entries failed for good, by this instance. */
  final java.util.concurrent.atomic.LongAdder retried = new java.util.concurrent.atomic.LongAdder(),
      failed = new java.util.concurrent.atomic.LongAdder();

  private volatile Claimer claimer; // set once when the layer starts

  public JournalImpl(DataSource dataSource, Options options) {
    this.dataSource = dataSource;
    this.options = options;
    this.owner =
        options
            .owner()
            .orElseGet(
                () ->
                    options.name()
                        + "-"
                        + ProcessHandle.current().pid()
                        + "-"
                        + UUID.randomUUID().toString().substring(0, 8));
  }

  @Override
  public String name() {
    return options.name();
  }

  @Override
  public String owner() {
    return owner;
  }

  @Override
  public State state() {
    State s = state.get();
    Claimer c = claimer;
    if (s == State.RUNNING && c != null && c.app.state() != App.State.READY) return State.DRAINING;
    return s;
  }

  @Override
  public Journal register(Kind kind) {
    Objects.requireNonNull(kind, "kind");
    synchronized (kinds) {
      State s = state.get();
      if (s.compareTo(State.STARTING) > 0) {
        throw new IllegalStateException(
            "journal '"
                + name()
                + "' is "
                + s
                + ": register kinds before the application is ready (kind '"
                + kind.name()
                + "')");
      }
      if (kinds.putIfAbsent(kind.name(), kind) != null) {
        throw new IllegalArgumentException(
            "kind '" + kind.name() + "' is registered already (journal '" + name() + "')");
      }
    }
    return this;
  }

  /** The registered kind called {@code name}, or null. */
  Kind kind(String name) {
    return kinds.get(name);
  }

  /** Moves to RUNNING and returns the kinds, from now on fixed. */
  List<String> startRunning() {
    synchronized (kinds) {
      state.compareAndSet(State.STARTING, State.RUNNING);
      return List.copyOf(kinds.keySet());
    }
  }

  void draining() {
    state.compareAndSet(State.RUNNING, State.DRAINING);
  }

  @Override
  public Lifespan lifespan() {
    return Lifespan.named(options.name(), this::run);
  }

  private void run(Lifespan.Context ctx) throws SQLException {
    App app =
        App.current()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "journal '" + name() + "' runs as a layer of an App, not outside one"));
    if (!state.compareAndSet(State.NEW, State.STARTING)) {
      throw new IllegalStateException("journal '" + name() + "' runs once; it is " + state.get());
    }
    try {
      Sql q = sql();
      Claimer c = new Claimer(this, q, app, new AppTime(app), ctx);
      if (options.owner().isPresent()) c.takeBack();
      claimer = c;
      ctx.listInDumps(c::dumpEntries);
      ctx.supervisor().spawn("journal '" + name() + "' claims", c::claimLoop);
      ctx.supervisor().spawn("journal '" + name() + "' lease renewal", c::renewLoop);
      ctx.proceed();
      c.stopped();
    } finally {
      state.set(State.STOPPED);
    }
  }

  /** The SQL for the database, creating the schema on first use. */
  Sql sql() throws SQLException {
    Sql q = sql;
    if (q != null) return q;
    synchronized (this) {
      if (sql != null) return sql;
      try (Connection c = dataSource.getConnection()) {
        c.setAutoCommit(true);
        q = new Sql(Sql.detect(c, name()), options.table());
        try {
          q.createSchema(c);
        } catch (SQLException raced) { // another instance created it at the same time
          q.createSchema(c);
        }
      }
      return sql = q;
    }
  }

  @Override
  public Enqueued enqueue(Connection connection, String kind, String key, String payload)
      throws SQLException {
    Objects.requireNonNull(connection, "connection");
    check(kind, key, payload);
    return new EnqueuedImpl(this, kind, key, sql().insert(connection, kind, key, payload));
  }

  @Override
  public Enqueued enqueueAndCommit(String kind, String key, String payload) throws SQLException {
    check(kind, key, payload);
    Enqueued e;
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        e = enqueue(c, kind, key, payload);
        c.commit();
      } catch (Throwable t) {
        Claimer.rollbackQuietly(c, t);
        throw t;
      }
    }
    e.start();
    return e;
  }

  @Override
  public Optional<Entry.Status> status(String kind, String key) throws SQLException {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
    Sql q = sql();
    try (Connection c = dataSource.getConnection()) {
      return q.status(c, kind, key);
    }
  }

  @Override
  public long pendingEntries() throws SQLException {
    Sql q = sql();
    try (Connection c = dataSource.getConnection()) {
      return q.count(c, "PENDING");
    }
  }

  @Override
  public long retriedRuns() {
    return retried.sum();
  }

  @Override
  public long failedEntries() {
    return failed.sum();
  }

  private void check(String kind, String key, String payload) {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(payload, "payload");
    if (!kinds.containsKey(kind)) {
      throw new IllegalArgumentException(
          "kind '"
              + kind
              + "' is not registered (journal '"
              + name()
              + "': "
              + kinds.keySet()
              + ")");
    }
    if (key.isBlank() || key.length() > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException(
          "key must be 1 to "
              + MAX_KEY_LENGTH
              + " characters, not blank: '"
              + (key.length() > 60 ? key.substring(0, 60) + "..." : key)
              + "' ("
              + key.length()
              + " characters, kind '"
              + kind
              + "')");
    }
    if (payload.length() > MAX_PAYLOAD_LENGTH) {
      throw new IllegalArgumentException(
          "payload longer than "
              + MAX_PAYLOAD_LENGTH
              + " characters: "
              + payload.length()
              + " (kind '"
              + kind
              + "', key '"
              + key
              + "')");
    }
  }

  // ---- for tests of this module

  /** The running part, once the layer started; null before. */
  public Claimer claimer() {
    return claimer;
  }

  void log(Level level, String message) {
    LOG.log(level, "journal '" + name() + "': " + message);
  }

  void log(Level level, String message, Throwable t) {
    LOG.log(level, "journal '" + name() + "': " + message, t);
  }

  @Override
  public String toString() {
    return "Journal[" + name() + ", " + state() + ", owner=" + owner + "]";
  }

  /** The handle {@link #enqueue} returns. */
  public record EnqueuedImpl(JournalImpl journal, String kind, String key, boolean isNew)
      implements Enqueued {
    @Override
    public void start() {
      Claimer c = journal.claimer;
      if (c != null) c.start(kind, key);
    }
  }
}
