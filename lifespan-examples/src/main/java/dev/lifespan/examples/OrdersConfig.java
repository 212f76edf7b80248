package dev.lifespan.examples;

import static dev.lifespan.loadgen.Args.arg;
import static dev.lifespan.loadgen.Args.bad;
import static dev.lifespan.loadgen.Args.duration;
import static dev.lifespan.loadgen.Args.flagOption;
import static dev.lifespan.loadgen.Args.number;
import static dev.lifespan.loadgen.Args.required;

import dev.lifespan.loadgen.Args;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The orders service's settings, from {@code --key=value} arguments; see {@link #USAGE}.
 *
 * @param port the HTTP port (0: any free port)
 * @param db the JDBC URL of the database
 * @param confirmMinMillis the shortest simulated delivery of a confirmation
 * @param confirmMaxMillis the longest simulated delivery of a confirmation
 * @param grace how long in-flight requests and confirmations may run after the first signal
 * @param drainDelay how long the service stays in DRAINING, still serving, before it closes the
 *     listener
 * @param dumpPort the loopback port of the task dump, or -1 for none
 * @param metricsEvery how often the metrics flusher logs the counts
 * @param maxBodyBytes the largest request body; larger ones get 413
 * @param poolSize the most database connections at once
 * @param quiet whether to leave out one line per order (for load tests)
 * @param lease how long a confirmation's claim lasts unless renewed: after a crash, another
 *     instance (or the next start) confirms the dead one's orders this long after its last renewal
 * @param deadline how long a request may take: then its database call is cancelled and it is
 *     answered 503
 */
record OrdersConfig(
    int port,
    String db,
    int confirmMinMillis,
    int confirmMaxMillis,
    Duration grace,
    Duration drainDelay,
    int dumpPort,
    Duration metricsEvery,
    int maxBodyBytes,
    int poolSize,
    boolean quiet,
    Duration lease,
    Duration deadline) {

  /** The default JDBC URL: an H2 database in files under {@code ./target/orders-db}. */
  static final String DEFAULT_DB = "jdbc:h2:file:./target/orders-db/orders;DB_CLOSE_ON_EXIT=FALSE";

  /** The default lease of a confirmation's claim. */
  static final Duration DEFAULT_LEASE = Duration.ofSeconds(10);

  /** The default deadline of a request. */
  static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);

  static final String USAGE =
      """
      OrdersService: a small orders service on an embedded database; stop it with Ctrl-C or SIGTERM.
        --port=N               HTTP port (default 8080; 0: any free port)
        --db=JDBC_URL          the database (default %s);
                               the schema is created if absent; PostgreSQL works too, e.g.
                               jdbc:postgresql://localhost:5432/orders?user=orders&password=...
                               (several instances may share one database)
        --confirm-ms=MIN[-MAX] simulated delivery of each order's confirmation (default 1000-2000)
        --grace=DURATION       the shutdown's budget, from SIGTERM or Ctrl-C: the drain delay, then
                               in-flight requests and confirmations (default 20s); orders that
                               could not be confirmed within what is left get 503
        --drain-delay=DURATION how long to keep serving, not ready, before closing the listener
                               (default 0; on Kubernetes a few seconds, e.g. 5s, so that the
                               endpoints stop routing to the pod before it stops accepting);
                               part of the grace, so it must be shorter
        --dump-port=N          serve the task dump on 127.0.0.1:N/tasks (default: off)
        --metrics-every=DURATION how often the metrics flusher logs the counts (default 5s)
        --max-body-bytes=N     larger request bodies get 413 (default 4096)
        --pool-size=N          most database connections at once (default 16)
        --quiet                no line per order (for load tests)
        --lease=DURATION       how long a confirmation's claim lasts unless renewed (default 10s):
                               after a crash, another instance on the same database (or the next
                               start) confirms the dead one's orders this long after it died
        --deadline=DURATION    how long a request may take (default 10s): then its database
                               statement is cancelled and it gets 503 (deadline exceeded)
      DURATION: 1.5s, 500ms, 2m, a number of seconds, or ISO-8601 (PT2S).
      Exit codes: 0 stopped on request, 1 failure, 2 bad argument (or a drain delay not shorter
      than the grace), 3 startup failed (e.g. the port is in use or the database cannot be opened),
      4 work abandoned (confirmations still pending when the grace ran out), 130 SIGINT (all
      confirmations done), 143 SIGTERM (all confirmations done).
      """
          .formatted(DEFAULT_DB);

  private static final Pattern RANGE = Pattern.compile("(\\d{1,9})(?:-(\\d{1,9}))?");

  /** The defaults: what no arguments give. */
  static OrdersConfig defaults() {
    return new OrdersConfig(
        8080,
        DEFAULT_DB,
        1000,
        2000,
        Duration.ofSeconds(20),
        Duration.ZERO,
        -1,
        Duration.ofSeconds(5),
        4096,
        16,
        false,
        DEFAULT_LEASE,
        DEFAULT_DEADLINE);
  }

  /**
   * The settings {@code args} ask for; null for {@code --help}.
   *
   * @throws IllegalArgumentException naming the argument and its value, if one is bad
   */
  static OrdersConfig parse(String... args) {
    Options line = new Options(defaults());
    return Args.read(line, args) ? line.config() : null;
  }

  /** The command line's options, each checked as it is read; see {@link #USAGE}. */
  @Command(name = "OrdersService")
  private static final class Options {
    int port, dumpPort, maxBody, pool, confirmMin, confirmMax;
    String db;
    Duration grace, drainDelay, metricsEvery, lease, deadline;
    boolean quiet;

    @Option(
        names = {"--help", "-h"},
        usageHelp = true)
    boolean help;

    Options(OrdersConfig c) {
      port = c.port;
      dumpPort = c.dumpPort;
      maxBody = c.maxBodyBytes;
      pool = c.poolSize;
      confirmMin = c.confirmMinMillis;
      confirmMax = c.confirmMaxMillis;
      db = c.db;
      grace = c.grace;
      drainDelay = c.drainDelay;
      metricsEvery = c.metricsEvery;
      lease = c.lease;
      deadline = c.deadline;
      quiet = c.quiet;
    }

    OrdersConfig config() {
      return new OrdersConfig(
          port,
          db,
          confirmMin,
          confirmMax,
          grace,
          drainDelay,
          dumpPort,
          metricsEvery,
          maxBody,
          pool,
          quiet,
          lease,
          deadline);
    }

    @Option(names = "--port")
    void port(String value) {
      port = port(arg("--port", value), value);
    }

    @Option(names = "--db")
    void db(String value) {
      String arg = arg("--db", value);
      db = required(arg, value).trim();
      if (!db.startsWith("jdbc:")) throw bad(arg, "must be a JDBC URL (jdbc:...)");
    }

    @Option(names = "--confirm-ms")
    void confirmMs(String value) {
      String arg = arg("--confirm-ms", value);
      Matcher m = RANGE.matcher(required(arg, value).trim());
      if (!m.matches()) throw bad(arg, "must be MIN or MIN-MAX milliseconds, e.g. 1000-2000");
      confirmMin = Integer.parseInt(m.group(1));
      confirmMax = m.group(2) == null ? confirmMin : Integer.parseInt(m.group(2));
      if (confirmMax < confirmMin) throw bad(arg, "MAX is less than MIN");
      if (confirmMax > 600_000) throw bad(arg, "must be at most 600000 ms");
    }

    @Option(names = "--grace")
    void grace(String value) {
      grace = duration(arg("--grace", value), value);
    }

    @Option(names = "--drain-delay")
    void drainDelay(String value) {
      drainDelay = duration(arg("--drain-delay", value), value);
    }

    @Option(names = "--dump-port")
    void dumpPort(String value) {
      dumpPort = port(arg("--dump-port", value), value);
    }

    @Option(names = "--metrics-every")
    void metricsEvery(String value) {
      String arg = arg("--metrics-every", value);
      metricsEvery = duration(arg, value);
      if (metricsEvery.toMillis() < 10) throw bad(arg, "must be at least 10 ms");
    }

    @Option(names = "--max-body-bytes")
    void maxBodyBytes(String value) {
      maxBody = number(arg("--max-body-bytes", value), value, 16, 1 << 24);
    }

    @Option(names = "--pool-size")
    void poolSize(String value) {
      pool = number(arg("--pool-size", value), value, 1, 1000);
    }

    @Option(names = "--lease")
    void lease(String value) {
      String arg = arg("--lease", value);
      lease = duration(arg, value);
      if (lease.toMillis() < 30) throw bad(arg, "must be at least 30 ms");
    }

    @Option(names = "--deadline")
    void deadline(String value) {
      String arg = arg("--deadline", value);
      deadline = duration(arg, value);
      if (deadline.toMillis() < 1) throw bad(arg, "must be at least 1 ms");
    }

    @Option(names = "--quiet", arity = "0..1")
    void quiet(String value) {
      quiet = flagOption("--quiet", value);
    }

    private static int port(String arg, String value) {
      return number(arg, value, 0, 65535);
    }
  }
}
