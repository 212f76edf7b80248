package dev.lifespan.examples;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.jr.ob.JSON;
import com.zaxxer.hikari.HikariDataSource;
import dev.lifespan.App;
import dev.lifespan.CancelHooks;
import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.Lifespan;
import dev.lifespan.LifespanLocal;
import dev.lifespan.ScopedCallable;
import dev.lifespan.ServiceSpec;
import dev.lifespan.http.HttpApp;
import dev.lifespan.http.HttpException;
import dev.lifespan.http.HttpOptions;
import dev.lifespan.http.Request;
import dev.lifespan.http.Response;
import dev.lifespan.http.Routes;
import dev.lifespan.jdbc.Entry;
import dev.lifespan.jdbc.Journal;
import dev.lifespan.jdbc.Kind;
import dev.lifespan.loadgen.Args;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.sql.SQLTransientException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * The orders demo: a small HTTP service on an embedded database whose shutdown loses nothing.
 *
 * <ul>
 *   <li>{@code POST /orders} with {@code {"item": "book", "quantity": 2}} stores the order and its
 *       confirmation, an entry of the {@link Journal}, in one transaction, and answers 201 with
 *       {@code {"id": N}} once that transaction is on disk; then the journal runs the confirmation
 *       as a <em>must-finish</em> task: it simulates a slow delivery (1 to 2 s, {@code
 *       --confirm-ms}) and writes the order's confirmation row in the transaction that marks the
 *       entry done. A shutdown lets it finish: every order that got a 201 is confirmed. A crash
 *       ({@code kill -9}) or a grace period too short cannot lose it either: the entry stays
 *       pending and the next start (or another instance on the same database) confirms the order.
 *   <li>{@code GET /orders/{id}} shows the order and its confirmation; 404 for unknown ids.
 *   <li>Bad input gets 400 with a short message (malformed JSON, invalid UTF-8, an unpaired
 *       surrogate or a control character in the item, missing fields, wrong types, quantity not
 *       positive; the item's length counts characters, not UTF-16 units), a {@code Content-Type}
 *       other than JSON 415, oversize bodies 413; the server answers unknown routes 404 and other
 *       methods 405. {@code /health/live} and {@code /health/ready} are built in; {@code
 *       --dump-port=N} serves the task dump on {@code 127.0.0.1:N/tasks}.
 * </ul>
 *
 * <p>Layers, outermost first: {@code database} (a HikariCP connection pool for requests, the schema
 * created if absent; a small one for the journal, {@link #journalConnections}), {@code
 * confirmations} (the journal: at startup it claims the confirmations left pending by a stopped or
 * crashed instance), {@code metrics} (its supervisor runs the restartable {@code metrics-flusher}
 * service), then the HTTP listener that {@link HttpApp} adds. On SIGTERM or Ctrl-C, in order:
 * readiness drops; after the drain delay the listener closes and in-flight requests finish; the
 * application's background supervisor lets the confirmations finish (within the grace period); the
 * flusher stops; the database closes last.
 *
 * <p>Database calls are cancellable without interrupts. A request runs under its route's deadline
 * ({@code --deadline}, default 10 s): waiting for a pooled connection ends at the deadline, and a
 * statement still running then is cancelled with {@link java.sql.Statement#cancel()} ({@link
 * CancelHooks#execute}); the request is answered 503 ({@code deadline of N ms exceeded}), its
 * transaction rolled back, its connection returned to the pool usable. No interrupt reaches JDBC
 * code: the calls run in scopes opened {@linkplain CancelScope.Options#withoutInterrupts() without
 * interrupts}, because an interrupt in the middle of a driver's I/O breaks the connection (a
 * virtual thread's socket is closed) or, for an embedded H2, closes the whole database for every
 * request. The same holds for a confirmation cancelled at the end of the grace period: its write is
 * cancelled, rolled back, and the order confirmed at the next start.
 *
 * <p>The JDBC URL is configuration ({@code --db=}): H2 by default, or PostgreSQL ({@code
 * jdbc:postgresql://...}, its driver is on the demo's class path), where several instances may
 * share one database: each confirms its own orders, and the orders of an instance that died once
 * its lease ({@code --lease}, default 10 s; the next start, which has a new owner name, waits for
 * it too) has expired. Every line reads the same, {@code [ 1.25 s] orders: ...} (seconds since the
 * application started): the service's own, logged through SLF4J, on standard output; the {@link
 * App}'s progress lines and the log records of the library and of HikariCP ({@code INFO
 * dev.lifespan.http: ...}, routed to SLF4J by {@code slf4j-jdk-platform-logging}) on standard
 * error. Logback formats them ({@code logback.xml}, {@link StampConverter}).
 */
public final class OrdersService {
  /** This application's pool of connections for requests, set by the {@code database} layer. */
  static final LifespanLocal<HikariDataSource> DB = LifespanLocal.named("db");

  /** This application's counters, set by the {@code metrics} layer. */
  static final LifespanLocal<Metrics> METRICS = LifespanLocal.named("metrics");

  /** The application's name, in every line it prints. */
  static final String NAME = "orders";

  static final int MAX_ITEM_LENGTH = 200;
  private static final long NOT_TAKEN = -1;
  static final int MAX_QUANTITY = 1_000_000;

  private static final String SCHEMA_ORDERS =
      "CREATE TABLE IF NOT EXISTS orders ("
          + " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
          + " item VARCHAR("
          + 2 * MAX_ITEM_LENGTH // H2 counts UTF-16 units: 200 characters may take 400
          + ") NOT NULL,"
          + " quantity INTEGER NOT NULL,"
          + " created_at TIMESTAMP WITH TIME ZONE NOT NULL)";
  // No unique key on order_id, on purpose: a confirmation written twice would show as two rows,
  // which scripts/crash-under-load.sh counts; the journal is what keeps it to one.
  private static final String SCHEMA_CONFIRMATIONS =
      "CREATE TABLE IF NOT EXISTS confirmations ("
          + " order_id BIGINT NOT NULL REFERENCES orders (id),"
          + " confirmed_at TIMESTAMP WITH TIME ZONE NOT NULL,"
          + " delivery_ms INTEGER NOT NULL)";
  private static final String SCHEMA_CONFIRMATIONS_INDEX =
      "CREATE INDEX IF NOT EXISTS confirmations_order ON confirmations (order_id)";

  /** The journal's kind that confirms an order; its key is the order's id. */
  static final String CONFIRM = "confirm-order";

  /**
   * How many confirmations run at once, at most; each holds a connection of the journal's pool for
   * its delivery. Enough for the load scripts' 400 orders a second of 1 to 2 s deliveries.
   */
  static final int CONFIRMATIONS_AT_ONCE = 1024;

  private final OrdersConfig config;
  private final Stamped out;

  // Made once per run, by lifespan(); opened and closed by the layers.
  private Journal journal;
  private HikariDataSource journalPool;

  /** The service, its lines on {@code out} (tests). */
  OrdersService(OrdersConfig config, PrintStream out) {
    this(config, new Stamped(out, NAME));
  }

  private OrdersService(OrdersConfig config, Stamped out) {
    this.config = config;
    this.out = out;
  }

  /** Runs the service until SIGTERM or Ctrl-C, then exits; {@code --help} lists the arguments. */
  public static void main(String[] args) {
    OrdersConfig config =
        Args.parseOrExit("OrdersService", OrdersConfig.USAGE, args, OrdersService::validConfig);
    if (config == null) return;
    // its lines to the log, stamped as the runner's and the library's (logback.xml)
    OrdersService service = new OrdersService(config, Stamped.log(OrdersService.class, NAME));
    long pid = ProcessHandle.current().pid();
    service.say(
        "orders service (pid %d) starting: port %d, database %s; Ctrl-C or kill -TERM %d stops it",
        pid, config.port(), redacted(config.db()), pid);
    HttpApp.runAndExit(
        service.appOptions(), service.lifespan(), service.httpOptions(), service.routes());
  }

  /**
   * Starts the service in-process (tests): no signal handlers, no exit; {@code progress} gets the
   * application's progress lines.
   */
  static HttpApp start(OrdersConfig config, PrintStream out, Consumer<String> progress) {
    OrdersService service = new OrdersService(config, out);
    return HttpApp.start(
        service.appOptions().withProgress(progress),
        service.lifespan(),
        service.httpOptions(),
        service.routes());
  }

  /**
   * The settings {@code args} ask for, if they also fit together as the application's options (a
   * drain delay shorter than the grace period, say); null for {@code --help}.
   *
   * @throws IllegalArgumentException with one line naming the bad argument, or the two values that
   *     do not fit together
   */
  static OrdersConfig validConfig(String... args) {
    OrdersConfig config = OrdersConfig.parse(args);
    if (config != null) appOptions(config).validate();
    return config;
  }

  App.Options appOptions() {
    return appOptions(config);
  }

  private static App.Options appOptions(OrdersConfig config) {
    return App.Options.named(NAME)
        .withGrace(config.grace())
        // 0 by default; on Kubernetes a few seconds (e.g. 5s), so that the endpoints stop routing
        // new connections here before the listener closes
        .withDrainDelay(config.drainDelay());
  }

  HttpOptions httpOptions() {
    HttpOptions o =
        HttpOptions.defaults()
            .withPort(config.port())
            .withMaxBodyBytes(config.maxBodyBytes())
            .withDeadline(config.deadline()); // --deadline: every route's
    return config.dumpPort() >= 0 ? o.withDumpEndpoint(config.dumpPort()) : o;
  }

  Routes routes() {
    return Routes.create().post("/orders", this::create).get("/orders/{id}", this::show);
  }

  Lifespan lifespan() {
    String url = url();
    journalPool = pool(url, NAME + "-journal", JOURNAL_POOL, JOURNAL_POOL, Duration.ofMillis(250));
    journal =
        Journal.create(
                journalConnections(journalPool, url),
                Journal.Options.named("confirmations")
                    .withLease(config.lease()) // --lease
                    .withMaxConcurrency(CONFIRMATIONS_AT_ONCE))
            .register(Kind.of(CONFIRM, this::confirm));
    // metrics outside the journal: its final counts come after the journal stopped, so they include
    // confirmations run by the journal's own supervisor after the background one stopped
    return Lifespan.of(database(), metrics(), journal.lifespan());
  }

  /**
   * The JDBC URL as configured; for H2, with these settings added unless set: {@code
   * WRITE_DELAY=0}, so that a commit is written to the database file before it returns, and the 201
   * that follows it survives a crash (H2's default writes commits up to half a second later: a
   * {@code kill -9} lost orders that had been answered 201, and their ids were given again after
   * the restart); {@code FILE_LOCK=FS}, a lock the operating system releases when the process dies,
   * so that a restart after a crash opens the database at once; {@code DB_CLOSE_ON_EXIT=FALSE}, so
   * that the database closes when the {@code database} layer closes it, not when the JVM begins to
   * exit while confirmations may still be writing; and {@code TRACE_LEVEL_FILE=0}, so that H2 keeps
   * no trace file of its own: the service reports its database errors itself, and a trace file that
   * cannot be written (the database's directory cannot be created) would make H2 print its stack
   * traces to standard output.
   *
   * <p>Order ids come from an identity column. With {@code WRITE_DELAY=0}, H2 (2.x) writes a
   * sequence's reserved range before it hands out ids from it, so after a crash ids go on above
   * every id given before (with a gap), never below; PostgreSQL's sequences do the same.
   */
  String url() {
    String url = config.db();
    if (url.startsWith("jdbc:h2:")) {
      String upper = url.toUpperCase(Locale.ROOT);
      if (!upper.contains("WRITE_DELAY")) url += ";WRITE_DELAY=0";
      if (!upper.contains("FILE_LOCK")) url += ";FILE_LOCK=FS";
      if (!upper.contains("DB_CLOSE_ON_EXIT")) url += ";DB_CLOSE_ON_EXIT=FALSE";
      if (!upper.contains("TRACE_LEVEL_FILE")) url += ";TRACE_LEVEL_FILE=0";
    }
    return url;
  }

  /** {@code url} with password values hidden, for the log. */
  static String redacted(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
  }

  // ---- the layers

  /**
   * Opens the pools (HikariCP) and creates the schema; closes every connection after all work
   * stopped. A database that cannot be opened fails the startup with one line naming its URL and
   * the driver's reason ({@link #cannotOpen}).
   */
  private Lifespan database() {
    return Lifespan.named(
        "database",
        ctx -> {
          String url = url();
          say("database: opening %s", redacted(url));
          try (HikariDataSource journalConnections = journalPool;
              HikariDataSource pool =
                  pool(url, NAME + "-requests", config.poolSize(), 1, POOL_WAIT)) {
            long[] counts;
            try {
              // The pool starts with its first connection, opened here: a database that cannot
              // be opened fails the startup now, with the driver's reason. No interrupt reaches
              // the driver meanwhile (a shutdown during startup waits for it).
              counts =
                  CancelScope.call(
                      CancelScope.Options.named("database: open").withoutInterrupts(),
                      s -> {
                        try (Connection c = pool.getConnection()) {
                          return createSchema(c);
                        }
                      });
            } catch (SQLException e) {
              throw cannotOpen(config.db(), e);
            }
            DB.set(pool);
            CancelScope.run(OPEN, s -> journalConnections.getConnection().close()); // starts it
            say("database: schema ready; it holds %d order(s), %d confirmed", counts[0], counts[1]);
            if (counts[0] > counts[1]) {
              say(
                  "database: %d order(s) await confirmation: the journal confirms them now (those"
                      + " a crashed instance had begun, once its lease of %s has expired)",
                  counts[0] - counts[1], Stamped.seconds(config.lease()));
            }
            ctx.proceed();
            say(
                "database: requests and confirmations have all ended; closing %d connection(s)",
                openConnections(pool) + openConnections(journalConnections));
          } finally {
            say("database: closed"); // also after a failed startup: nothing is left open
          }
        });
  }

  /**
   * Owns the metrics flusher, a restartable service in this layer's supervisor: it stops before the
   * database closes, after the journal layer inside it has stopped, so after every confirmation.
   */
  private Lifespan metrics() {
    return Lifespan.named(
        "metrics",
        ctx -> {
          Metrics metrics = new Metrics();
          METRICS.set(metrics);
          ctx.supervisor()
              .startService(
                  ServiceSpec.of("metrics-flusher", () -> flushForever(metrics))
                      .withRestart(ServiceSpec.Restart.PERMANENT));
          ctx.supervisor().spawn("announce when ready", this::announceWhenReady);
          say(
              "metrics: flusher started; it logs the counts every %s when they change",
              Stamped.seconds(config.metricsEvery()));
          ctx.proceed();
          Metrics.Snapshot last = metrics.snapshot();
          say("metrics: flusher stopped; final counts: %s", last);
          if (last.taken() > last.confirmed()) {
            // another instance on the same database may have confirmed some: ask the journal
            long pending = pendingOfThisRun();
            if (pending != 0) {
              say(
                  "%s confirmation(s) not done: they stay pending in the journal, and the next"
                      + " start (or another instance on this database) confirms them",
                  pending < 0 ? "some" : Long.toString(pending));
            } else {
              say(
                  "%d order(s) of this run were confirmed by another instance on this database",
                  last.taken() - last.confirmed());
            }
          }
        });
  }

  /**
   * How many orders taken by this run still have their confirmation pending in the journal; -1 if
   * the database cannot say.
   */
  private long pendingOfThisRun() {
    try {
      return db(
          DB.get(),
          "count pending confirmations",
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "SELECT COUNT(*) FROM lifespan_journal WHERE kind = ? AND payload = ?"
                        + " AND status = 'PENDING'")) {
              ps.setString(1, CONFIRM);
              ps.setString(2, owner());
              return statement(
                  ps,
                  q -> {
                    try (ResultSet rs = q.executeQuery()) {
                      rs.next();
                      return rs.getLong(1);
                    }
                  });
            }
          });
    } catch (SQLException | RuntimeException e) {
      return -1;
    }
  }

  private void flushForever(Metrics metrics) {
    Metrics.Snapshot last = metrics.snapshot();
    while (true) {
      CancelScope.sleep(config.metricsEvery());
      Metrics.Snapshot now = metrics.snapshot();
      if (!now.equals(last)) say("metrics: %s", now);
      last = now;
    }
  }

  /** Tells the reader what to try, once the service serves. */
  private void announceWhenReady() throws InterruptedException {
    App app = App.current().orElseThrow();
    if (!app.awaitReady()) return;
    CancelScope.sleep(Duration.ofMillis(100)); // after the runner's and the server's own lines
    String host = "localhost:" + (config.port() == 0 ? "PORT" : config.port());
    StringBuilder sb = new StringBuilder();
    sb.append("ready");
    if (config.port() == 0) sb.append(" (PORT: see the 'listening on' line)");
    sb.append("; try:\n");
    sb.append("    curl -i -X POST ")
        .append(host)
        .append(
            "/orders -H 'Content-Type: application/json'"
                + " -d '{\"item\":\"book\",\"quantity\":2}'\n");
    sb.append("    curl ").append(host).append("/orders/1\n");
    sb.append("    curl -i ").append(host).append("/health/ready\n");
    if (config.dumpPort() > 0) {
      sb.append("    curl localhost:").append(config.dumpPort()).append("/tasks\n");
    }
    long pid = ProcessHandle.current().pid();
    sb.append("  Ctrl-C (or kill -TERM ")
        .append(pid)
        .append(") to stop: in-flight requests and pending confirmations finish first");
    say("%s", sb);
  }

  // ---- the routes

  /**
   * How long a confirmation may need once its order is taken: the longest simulated delivery
   * ({@code --confirm-ms}) plus {@link #CONFIRMATION_WRITE} for writing it. Once a shutdown has
   * begun, an order is taken only while the grace period leaves at least this much, so that every
   * 201 is a promise the service can still keep.
   */
  Duration confirmationBound() {
    return Duration.ofMillis(config.confirmMaxMillis()).plus(CONFIRMATION_WRITE);
  }

  /** The time allowed for a confirmation's database write, on top of its delivery. */
  static final Duration CONFIRMATION_WRITE = Duration.ofMillis(500);

  /**
   * Whether a confirmation that needs {@code needed} can still finish by {@code graceDeadline} (the
   * application's {@link App#graceDeadline()}: empty while no shutdown has begun) at {@code now}.
   */
  static boolean canConfirmInTime(Optional<Instant> graceDeadline, Instant now, Duration needed) {
    return graceDeadline.isEmpty()
        || Duration.between(now, graceDeadline.get()).compareTo(needed) >= 0;
  }

  /** The answer to an order the service cannot confirm in time: it is not taken. */
  private static Response notTaken() {
    return Response.text(503, "shutting down: order not taken, retry elsewhere\n")
        .withHeader("Connection", "close");
  }

  /**
   * {@code POST /orders}: stores the order and its confirmation entry in one transaction, answers
   * 201 once it committed, and starts the confirmation; during a shutdown that leaves too little of
   * the grace period for its confirmation ({@link #confirmationBound()}), answers 503 and stores
   * nothing.
   */
  Response create(Request request) throws SQLException {
    Metrics metrics = METRICS.get();
    NewOrder order;
    try {
      order = NewOrder.parse(jsonBody(request));
    } catch (HttpException e) {
      metrics.rejected.incrementAndGet();
      throw e;
    }
    HikariDataSource pool = DB.get();
    App app = App.current().orElseThrow();
    Journal.Enqueued[] confirmation = new Journal.Enqueued[1];
    long[] committed = {NOT_TAKEN};
    long id;
    try {
      id =
          db(
              pool,
              "insert order",
              c -> {
                c.setAutoCommit(false);
                long newId = insert(c, order);
                // decided as late as possible: just before the promise is made
                if (!canConfirmInTime(
                    app.graceDeadline(), app.clock().instant(), confirmationBound())) {
                  c.rollback();
                  return NOT_TAKEN;
                }
                // the order and its confirmation entry: both or neither; the payload says who
                // took the order, for the counts
                confirmation[0] = journal.enqueue(c, CONFIRM, Long.toString(newId), owner());
                // past the deadline, nothing is committed: the pool rolls the order back
                CancelScope.checkpoint();
                c.commit(); // on disk (WRITE_DELAY=0) before the 201 goes out
                committed[0] = newId;
                metrics.taken.incrementAndGet(); // before the confirmation can count it
                return newId;
              });
    } catch (SQLTransientException e) {
      throw busy(e);
    } catch (CancelledException e) {
      // Cancelled after the commit (the deadline passed during it): the order is taken and will
      // be confirmed, so it is answered 201, not 503 (a client would order it again).
      if (committed[0] == NOT_TAKEN) throw e;
      id = committed[0];
    }
    if (id != NOT_TAKEN) confirmation[0].start(); // now, rather than at the journal's next poll
    if (id == NOT_TAKEN) {
      metrics.refused.incrementAndGet();
      if (!config.quiet()) {
        say(
            "order not taken (503): shutting down, and what is left of the grace is less than a"
                + " confirmation may need (%s)",
            Stamped.seconds(confirmationBound()));
      }
      return notTaken();
    }
    if (!config.quiet()) {
      say("order %d taken: %d x %s", id, order.quantity(), quoted(order.item()));
    }
    return Response.json(201, json(Map.of("id", id))).withHeader("Location", "/orders/" + id);
  }

  /** The journal's owner name of this run, written into the entries of the orders it takes. */
  private String owner() {
    return journal.owner();
  }

  /**
   * The handler of the journal's {@link #CONFIRM} kind, a must-finish task: simulates the slow
   * delivery of order {@code entry.key()}, then writes its confirmation row in {@code c}'s
   * transaction, which the journal commits together with the entry's done mark: one confirmation
   * per order, whatever crashes. The end of the grace period cancels the delivery; the entry then
   * stays pending for the next start.
   */
  private void confirm(Entry entry, Connection c) throws Exception {
    long id = Long.parseLong(entry.key());
    int ms =
        ThreadLocalRandom.current()
            .nextInt(config.confirmMinMillis(), config.confirmMaxMillis() + 1);
    CancelScope.sleep(Duration.ofMillis(ms)); // the delivery: only the end of the grace stops it
    // Not a shield: a write cancelled by the end of the grace period is rolled back with the
    // journal's transaction, and the order is confirmed at the next start (at least once, as any
    // crash can make it). Without interrupts: an interrupt in H2's file I/O closes the database.
    CancelScope.run(
        CancelScope.Options.named("database: confirm order").withoutInterrupts(),
        scope -> {
          CancelScope.checkpoint();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO confirmations (order_id, confirmed_at, delivery_ms)"
                      + " VALUES (?, ?, ?)")) {
            ps.setLong(1, id);
            ps.setObject(2, OffsetDateTime.now(ZoneOffset.UTC));
            ps.setInt(3, ms);
            statement(ps, PreparedStatement::executeUpdate);
          }
        });
    // counted when written; the journal's commit follows (a crash in between confirms it again
    // at the next start, where it is counted again)
    Metrics metrics = METRICS.get();
    (entry.payload().equals(owner()) ? metrics.confirmed : metrics.earlier).incrementAndGet();
    if (!config.quiet()) {
      say(
          "order %d confirmed (delivery took %d ms)%s",
          id, ms, entry.payload().equals(owner()) ? "" : ", taken before this start");
    }
  }

  /** {@code GET /orders/{id}}: the order and its confirmation, or 404. */
  Response show(Request request) throws SQLException {
    String raw = request.pathParam("id");
    long id;
    try {
      id = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw new HttpException(
          400, "order id must be a number: '" + abbreviate(raw) + "'"); // "abc", 1e3, ...
    }
    Map<String, Object> order;
    try {
      order =
          db(
              DB.get(),
              "show order",
              c -> {
                try (PreparedStatement ps =
                    c.prepareStatement(
                        "SELECT o.id, o.item, o.quantity, o.created_at, c.confirmed_at,"
                            + " c.delivery_ms FROM orders o"
                            + " LEFT JOIN confirmations c ON c.order_id = o.id WHERE o.id = ?")) {
                  ps.setLong(1, id);
                  return statement(
                      ps,
                      q -> {
                        try (ResultSet rs = q.executeQuery()) {
                          return rs.next() ? order(rs) : null;
                        }
                      });
                }
              });
    } catch (SQLTransientException e) {
      throw busy(e);
    }
    if (order == null) throw new HttpException(404, "no order " + id);
    return Response.json(200, json(order));
  }

  /** The order in {@code rs}'s row, as {@code GET /orders/{id}} shows it: its fields in order. */
  private static Map<String, Object> order(ResultSet rs) throws SQLException {
    OffsetDateTime confirmedAt = rs.getObject(5, OffsetDateTime.class);
    Map<String, Object> order = new LinkedHashMap<>();
    order.put("id", rs.getLong(1));
    order.put("item", rs.getString(2));
    order.put("quantity", rs.getInt(3));
    order.put("created_at", rs.getObject(4, OffsetDateTime.class).toInstant().toString());
    order.put("status", confirmedAt == null ? "pending" : "confirmed");
    order.put("confirmed_at", confirmedAt == null ? null : confirmedAt.toInstant().toString());
    order.put("delivery_ms", confirmedAt == null ? null : rs.getInt(6));
    return order;
  }

  /** The answer to a request that found no free connection within the pool's wait. */
  private static HttpException busy(SQLTransientException e) {
    return new HttpException(503, "database busy: " + e.getMessage());
  }

  // ---- the database

  /**
   * Runs {@code work} with a pooled connection, cancellable without interrupts. The wait for a free
   * connection ends when the caller's scope is cancelled (the route's deadline, a shutdown), with
   * that cancellation ({@link #borrow}); then {@code work} runs in a scope opened {@linkplain
   * CancelScope.Options#withoutInterrupts() without interrupts}, because an interrupt inside JDBC
   * I/O can break the connection or, for an embedded H2, close the database for everybody. Its
   * statements run through {@link #statement}, which cancels the one running when the cancellation
   * comes; other calls ({@code commit}, a short insert of the journal) run to their end. The
   * cancellation then comes out of this method (as {@link java.util.concurrent.TimeoutException}
   * out of the route's deadline), and the connection goes back to the pool with its transaction
   * rolled back ({@link #giveBack}).
   */
  static <T> T db(DataSource pool, String what, SqlWork<T> work) throws SQLException {
    Connection c = borrow(pool);
    try {
      return CancelScope.call(
          CancelScope.Options.named("database: " + what).withoutInterrupts(),
          scope -> {
            CancelScope.checkpoint(); // cancelled meanwhile: no call is made
            return work.run(c);
          });
    } finally {
      giveBack(c);
    }
  }

  /**
   * A connection of {@code pool}; the wait for one ends at the caller's cancellation. HikariCP
   * waits for a free connection interruptibly: the cancellation's interrupt ends the wait with an
   * {@link SQLException} caused by an {@link InterruptedException} (the interrupt flag set again),
   * which is thrown here as the cancellation it is, so that a route's deadline answers 503 {@code
   * deadline of N ms exceeded}. No connection is opened on the caller's thread: HikariCP opens them
   * on its own. A wait that reaches the pool's own timeout first ({@link #POOL_WAIT}) throws its
   * {@link java.sql.SQLTransientConnectionException}.
   *
   * @throws dev.lifespan.CancelledException if the caller's scope was cancelled before or during
   *     the wait
   */
  static Connection borrow(DataSource pool) throws SQLException {
    CancelScope.checkpoint(); // cancelled already: no wait
    try {
      return pool.getConnection();
    } catch (SQLException e) {
      CancelScope.checkpoint(); // the caller's cancellation, not the pool's report of it
      throw e;
    }
  }

  private static final CancelScope.Options GIVE_BACK =
      CancelScope.Options.named("database: return connection").shielded();

  /**
   * Gives {@code c} back to its pool, in a shield: HikariCP rolls back what the borrower left
   * uncommitted and resets the connection, which must finish, with no interrupt reaching the
   * driver, for the next borrower to get a clean connection. Throws nothing for the caller's
   * cancellation, which stays visible (the next checkpoint throws it), as a {@code finally} block
   * expects; a connection that cannot be reset is closed by the pool, which then opens another. (A
   * connection of no pool, the journal's, is closed the same way: {@code close()} rolls back what
   * is uncommitted.)
   */
  static void giveBack(Connection c) {
    try {
      CancelScope.run(GIVE_BACK, s -> c.close());
    } catch (SQLException e) {
      // HikariCP has evicted the connection; nothing more to do with it
    } catch (CancelledException stillVisible) {
      // the caller's cancellation: level-triggered, its next checkpoint throws it again
    }
  }

  /** How many connections the journal's pool keeps open, for its claims and short calls. */
  static final int JOURNAL_POOL = 8;

  /**
   * The journal's connections: one of {@code pool}'s if one is idle, otherwise a new one to {@code
   * url}, opened by the borrower where no interrupt reaches the driver and closed after use. Either
   * is closed in a shield ({@link #giveBack}), so that one closed while its thread is being
   * cancelled (the journal's claim loop woken, the end of the grace) is rolled back with no
   * interrupt pending: for an embedded H2, an interrupt in its file I/O closes the database for
   * every connection.
   *
   * <p>Why not only the pool: each running confirmation holds its connection for its whole delivery
   * (1 to 2 s), so a burst of orders needs hundreds at once, and HikariCP opens new connections one
   * at a time on its own thread, with every borrower waiting in one queue for them. The journal's
   * claims then waited seconds behind the confirmations, and orders taken just before a SIGTERM
   * were not claimed before the background work stopped (left pending for the next start, where
   * scripts/shutdown-under-load.sh wants them confirmed). Why not only new connections: opening a
   * PostgreSQL connection for every claim made a claim slow enough to miss the drain, too. The pool
   * (a fixed {@link #JOURNAL_POOL} connections) serves the claims and the short calls; a burst of
   * confirmations opens its own side by side. A borrower that finds an idle connection taken
   * meanwhile waits at most the pool's 250 ms, then opens its own.
   */
  static DataSource journalConnections(HikariDataSource pool, String url) {
    return (DataSource)
        Proxy.newProxyInstance(
            DataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection") && method.getParameterCount() == 0) {
                return shielded(journalConnection(pool, url));
              }
              return switch (method.getName()) {
                case "isWrapperFor" -> false;
                case "getLoginTimeout" -> 0;
                case "getLogWriter", "setLogWriter", "setLoginTimeout" -> null;
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                case "toString" -> "connections to " + redacted(url);
                default ->
                    throw new SQLFeatureNotSupportedException(
                        method.getName() + " is not supported by the journal's data source");
              };
            });
  }

  private static Connection journalConnection(HikariDataSource pool, String url)
      throws SQLException {
    var mx = pool.getHikariPoolMXBean();
    if (mx != null && mx.getIdleConnections() > 0) {
      try {
        return borrow(pool);
      } catch (SQLTransientConnectionException takenMeanwhile) {
        // below
      }
    }
    return CancelScope.call(
        OPEN,
        s -> {
          CancelScope.checkpoint(); // cancelled already: none is opened
          return DriverManager.getConnection(url);
        });
  }

  private static final CancelScope.Options OPEN =
      CancelScope.Options.named("database: open connection").withoutInterrupts();

  /** {@code c}, whose {@code close()} runs in a shield ({@link #giveBack}). */
  private static Connection shielded(Connection c) {
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              if (method.getName().equals("close") && method.getParameterCount() == 0) {
                giveBack(c);
                return null;
              }
              return invoke(c, method, args);
            });
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** How long a borrower waits for a free connection at most, unless its deadline comes first. */
  static final Duration POOL_WAIT = Duration.ofSeconds(5);

  /**
   * A HikariCP pool of at most {@code size} connections to {@code url}, not yet started: it opens
   * its first connection at its first {@code getConnection()}, and keeps {@code warm} open from
   * then on (at least one also keeps an embedded H2 database open between requests); more are
   * opened on demand by the pool's own thread. A borrower waits at most {@code wait} for a free
   * one. Closing it closes every connection; one still borrowed is closed when it is given back.
   */
  static HikariDataSource pool(String url, String name, int size, int warm, Duration wait) {
    HikariDataSource pool = new HikariDataSource();
    pool.setPoolName(name);
    pool.setJdbcUrl(url);
    pool.setMaximumPoolSize(size);
    pool.setMinimumIdle(Math.min(warm, size));
    pool.setConnectionTimeout(wait.toMillis());
    return pool;
  }

  /** How many connections {@code pool} holds open, borrowed or idle. */
  static int openConnections(HikariDataSource pool) {
    var mx = pool.getHikariPoolMXBean(); // null while it has not started
    return mx == null ? 0 : mx.getTotalConnections();
  }

  /**
   * Runs {@code call} with {@code st}, which is cancelled ({@link java.sql.Statement#cancel()}) if
   * cancellation reaches the calling thread meanwhile; then the cancellation is thrown instead of
   * the driver's exception ({@link CancelHooks#execute}).
   */
  static <S extends Statement, T> T statement(
      S st, ScopedCallable<? super S, ? extends T, SQLException> call) throws SQLException {
    return CancelHooks.execute(st, call);
  }

  /**
   * The startup failure for database {@code url} that could not be opened, or whose schema could
   * not be created: {@code database jdbc:h2:/proc/nope/orders cannot be opened: Error while
   * creating file "/proc/nope" [90062-252]}, with {@code e} as its cause. Only the first line of
   * the driver's message is kept (some drivers add the SQL or hints on further lines); passwords in
   * the URL are hidden.
   */
  static SQLException cannotOpen(String url, SQLException e) {
    String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    reason = reason.lines().findFirst().orElse("").strip();
    return new SQLException(
        "database " + redacted(url) + " cannot be opened: " + reason, e.getSQLState(), e);
  }

  /** Work with one connection. */
  @FunctionalInterface
  interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  /** Creates the tables if absent; returns how many orders there are, and confirmed ones. */
  private static long[] createSchema(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      return statement(
          s,
          q -> {
            q.executeUpdate(SCHEMA_ORDERS);
            q.executeUpdate(SCHEMA_CONFIRMATIONS);
            q.executeUpdate(SCHEMA_CONFIRMATIONS_INDEX);
            try (ResultSet rs =
                q.executeQuery(
                    "SELECT COUNT(*), COUNT(c.order_id) FROM orders o LEFT JOIN"
                        + " (SELECT DISTINCT order_id FROM confirmations) c"
                        + " ON c.order_id = o.id")) {
              rs.next();
              return new long[] {rs.getLong(1), rs.getLong(2)};
            }
          });
    }
  }

  private static long insert(Connection c, NewOrder order) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO orders (item, quantity, created_at) VALUES (?, ?, ?)",
            Statement.RETURN_GENERATED_KEYS)) {
      ps.setString(1, order.item());
      ps.setInt(2, order.quantity());
      ps.setObject(3, OffsetDateTime.now(ZoneOffset.UTC));
      statement(ps, PreparedStatement::executeUpdate);
      try (ResultSet keys = ps.getGeneratedKeys()) {
        if (!keys.next()) throw new SQLException("the database returned no id for the new order");
        return keys.getLong(1); // H2: the identity column; Postgres: every column, id first
      }
    }
  }

  // ---- input

  /**
   * The request's body as text: it must be JSON ({@code Content-Type: application/json}, with no
   * charset or UTF-8; a request without the header is taken as JSON) and valid UTF-8. Nothing is
   * replaced: a malformed body is refused, never stored changed.
   *
   * @throws HttpException 415 for another media type or charset, 400 for invalid UTF-8
   */
  static String jsonBody(Request request) {
    String type = request.header("Content-Type").orElse(null);
    if (type != null) {
      String[] parts = type.split(";");
      boolean json = parts[0].strip().equalsIgnoreCase("application/json");
      for (int i = 1; i < parts.length && json; i++) {
        String p = parts[i].strip().toLowerCase(Locale.ROOT).replace("\"", "");
        json = !p.startsWith("charset=") || p.equals("charset=utf-8");
      }
      if (!json) {
        throw new HttpException(
            415, "Content-Type must be application/json, not " + quoted(abbreviate(type)));
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(request.body()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new HttpException(400, "the body is not valid UTF-8");
    }
  }

  /**
   * A valid new order.
   *
   * @param item what is ordered: not blank, at most {@link #MAX_ITEM_LENGTH} characters
   * @param quantity how many: 1 to {@link #MAX_QUANTITY}
   */
  record NewOrder(String item, int quantity) {
    /**
     * The order in {@code body}.
     *
     * @throws HttpException 400 with a short message if the body is not a valid order
     */
    static NewOrder parse(String body) {
      Map<String, Object> fields = fields(body);
      for (String name : fields.keySet()) {
        if (!name.equals("item") && !name.equals("quantity")) {
          throw new HttpException(
              400, "unknown field " + quoted(abbreviate(name)) + "; expected " + EXAMPLE);
        }
      }
      Object item = fields.get("item");
      Object quantity = fields.get("quantity");
      if (!fields.containsKey("item")) {
        throw new HttpException(400, "missing field \"item\"; expected " + EXAMPLE);
      }
      if (!fields.containsKey("quantity")) {
        throw new HttpException(400, "missing field \"quantity\"; expected " + EXAMPLE);
      }
      if (!(item instanceof String s)) {
        throw new HttpException(400, "field \"item\" must be a string, not " + typeOf(item));
      }
      if (s.isBlank()) throw new HttpException(400, "field \"item\" must not be blank");
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)
            && i + 1 < s.length()
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else if (Character.isSurrogate(c)) {
          throw new HttpException(400, "field \"item\" holds an unpaired surrogate");
        } else if (Character.getType(c) == Character.CONTROL) {
          throw new HttpException(400, "field \"item\" must not hold control characters");
        }
      }
      if (s.codePointCount(0, s.length()) > MAX_ITEM_LENGTH) { // characters, not UTF-16 units
        throw new HttpException(
            400, "field \"item\" must be at most " + MAX_ITEM_LENGTH + " characters");
      }
      if (!(quantity instanceof Number n)) {
        throw new HttpException(
            400, "field \"quantity\" must be a number, not " + typeOf(quantity));
      }
      BigDecimal q = exact(n);
      if (q.signum() <= 0) throw new HttpException(400, "field \"quantity\" must be positive");
      if (q.compareTo(BigDecimal.valueOf(MAX_QUANTITY)) > 0) {
        throw new HttpException(400, "field \"quantity\" must be at most " + MAX_QUANTITY);
      }
      if (q.stripTrailingZeros().scale() > 0) {
        throw new HttpException(400, "field \"quantity\" must be a whole number");
      }
      return new NewOrder(s.strip(), q.intValueExact());
    }

    private static final String EXAMPLE = "{\"item\": \"book\", \"quantity\": 2}";

    /**
     * The members of the one JSON object {@code body} holds, read by jackson-jr: numbers exact
     * (integers as {@link Integer}, {@link Long} or {@link BigInteger}, others as {@link
     * BigDecimal}), {@code null} as null.
     *
     * @throws HttpException 400 if {@code body} is not exactly one JSON object (also: a name given
     *     twice), with the parser's reason and where it stopped
     */
    static Map<String, Object> fields(String body) {
      if (body.isBlank()) {
        throw new HttpException(400, "malformed JSON: empty body; expected " + EXAMPLE);
      }
      try (JsonParser p = JSON_FACTORY.createParser(body)) {
        JsonToken first;
        try {
          first = p.nextToken();
        } catch (JsonProcessingException e) {
          throw malformed("expected a JSON object", e);
        }
        if (first != JsonToken.START_OBJECT) {
          throw new HttpException(
              400,
              "malformed JSON: expected a JSON object, not "
                  + (first == JsonToken.START_ARRAY ? "an array" : "a single value")
                  + "; expected "
                  + EXAMPLE);
        }
        Map<String, Object> fields = JSON_TEXT.mapFrom(p);
        long end = p.currentLocation().getCharOffset();
        JsonToken after;
        try {
          after = p.nextToken();
        } catch (JsonProcessingException e) {
          after = JsonToken.NOT_AVAILABLE;
        }
        if (after != null) {
          throw new HttpException(400, "malformed JSON: more after the object, at offset " + end);
        }
        return fields;
      } catch (JsonProcessingException e) {
        throw malformed(null, e);
      } catch (NumberFormatException e) { // a number the parser reads, but not as a BigDecimal
        throw new HttpException(400, "malformed JSON: a number out of range");
      } catch (IOException e) { // reading a String fails only as above
        throw new UncheckedIOException(e);
      }
    }

    /**
     * 400 for a body the parser refused: {@code malformed JSON: Duplicate field 'item', at offset
     * 23}: the parser's reason (without its source excerpt), and where it stopped.
     */
    private static HttpException malformed(String what, JsonProcessingException e) {
      String reason = e.getOriginalMessage();
      int excerpt = reason.indexOf(" (start marker at");
      if (excerpt >= 0) reason = reason.substring(0, excerpt);
      reason = reason.lines().findFirst().orElse("").strip();
      long at = e.getLocation() == null ? -1 : e.getLocation().getCharOffset();
      return new HttpException(
          400,
          "malformed JSON: "
              + (what == null ? "" : what + ": ")
              + reason
              + (at >= 0 ? ", at offset " + at : ""));
    }

    /** {@code n} (an integer or a decimal of the parser) as a {@link BigDecimal}. */
    private static BigDecimal exact(Number n) {
      return switch (n) {
        case BigDecimal d -> d;
        case BigInteger i -> new BigDecimal(i);
        default -> BigDecimal.valueOf(n.longValue()); // Integer, Long
      };
    }

    private static String typeOf(Object value) {
      return switch (value) {
        case null -> "null";
        case String s -> "a string";
        case Number n -> "a number";
        case Boolean b -> "a boolean";
        case Map<?, ?> m -> "an object";
        case List<?> l -> "an array";
        default -> value.getClass().getSimpleName();
      };
    }
  }

  // ---- JSON, by jackson-jr

  /** Reads request bodies: numbers exact, a name given twice refused. */
  private static final JsonFactory JSON_FACTORY =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  /**
   * Reads and writes the service's JSON. Writes an object on one line, a space after each colon and
   * comma ({@code {"id": 7, "status": "pending", "confirmed_at": null}}), its null members
   * included.
   */
  private static final JSON JSON_TEXT =
      JSON.builder(JSON_FACTORY)
          .enable(JSON.Feature.USE_BIG_DECIMAL_FOR_FLOATS, JSON.Feature.WRITE_NULL_PROPERTIES)
          .build()
          .with(
              new DefaultPrettyPrinter(
                      Separators.createDefaultInstance()
                          .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                          .withObjectEntrySpacing(Separators.Spacing.AFTER))
                  .withObjectIndenter(new DefaultIndenter("", "")));

  /** {@code value} as JSON on one line, ending with a newline (a response body). */
  static String json(Object value) {
    try {
      return JSON_TEXT.asString(value) + "\n";
    } catch (IOException e) { // a value of the service's own, always writable
      throw new UncheckedIOException(e);
    }
  }

  /** {@code s} as a JSON string, in quotes, its control characters escaped (for the log). */
  static String quoted(String s) {
    return json(s).strip();
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  // ---- metrics

  /** The service's counters. */
  static final class Metrics {
    final AtomicLong taken = new AtomicLong();
    final AtomicLong confirmed = new AtomicLong();
    final AtomicLong rejected = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong earlier = new AtomicLong();

    /**
     * The counters at one moment.
     *
     * @param taken orders stored and answered 201
     * @param confirmed orders confirmed
     * @param rejected order requests answered 400
     * @param refused orders not taken because the shutdown left too little time to confirm them
     *     (503)
     * @param earlier orders taken before this start (or by another instance) and confirmed by this
     *     one: its journal found them pending
     */
    record Snapshot(long taken, long confirmed, long rejected, long refused, long earlier) {
      @Override
      public String toString() {
        return String.format(
            Locale.ROOT,
            "orders taken %d, confirmed %d, awaiting confirmation %d; bad requests %d;"
                + " refused while stopping %d; confirmed for orders taken earlier %d",
            taken,
            confirmed,
            taken - confirmed,
            rejected,
            refused,
            earlier);
      }
    }

    Snapshot snapshot() {
      long c = confirmed.get(); // before taken: never more confirmed than taken
      return new Snapshot(taken.get(), c, rejected.get(), refused.get(), earlier.get());
    }
  }

  // ---- output

  void say(String format, Object... args) {
    out.say(format, args);
  }
}
