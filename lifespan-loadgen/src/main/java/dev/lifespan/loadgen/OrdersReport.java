package dev.lifespan.loadgen;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The end of the shutdown-under-load and crash-under-load scenarios: opens the orders database
 * after the service has exited, compares it with what the load generator saw, and says whether the
 * guarantee held: every order that got a 201 is in the database and confirmed exactly once (one
 * confirmation row), no id was given to two orders, and no response was half-served.
 *
 * <p>Arguments: {@code --db=JDBC_URL} (the service's), {@code --load=DIR} (what {@link OrdersLoad}
 * wrote with {@code --out}; repeated for several loads, e.g. before and after a crash), and for the
 * printout {@code --exit-code=N}, {@code --shutdown-ms=N}, {@code --signal-after=K} and {@code
 * --kill-after=K}, and {@code --killed-at=EPOCH_MS} (when an instance was killed: then it also
 * prints how many confirmations were claimed again after a first claim, the dead instance's, and
 * when they were written). Exits 0 if the guarantee held, 1 if not, 2 for a bad argument.
 */
public final class OrdersReport {
  private OrdersReport() {}

  /**
   * What the database holds.
   *
   * @param orders the ids of the stored orders
   * @param confirmed the ids of the confirmed orders
   * @param confirmedTwice the ids of the orders with more than one confirmation row
   */
  public record Db(Set<Long> orders, Set<Long> confirmed, Set<Long> confirmedTwice) {
    /** Of {@code accepted}, the ids that are not confirmed exactly once. */
    public Set<Long> notConfirmedOnce(Iterable<Long> accepted) {
      Set<Long> bad = new TreeSet<>();
      for (long id : accepted) {
        if (!confirmed.contains(id) || confirmedTwice.contains(id)) bad.add(id);
      }
      return bad;
    }
  }

  /** Reads the order and confirmation ids at {@code url}. */
  public static Db read(String url) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      return new Db(
          ids(s, "SELECT id FROM orders"),
          ids(s, "SELECT order_id FROM confirmations"),
          ids(s, "SELECT order_id FROM confirmations GROUP BY order_id HAVING COUNT(*) > 1"));
    }
  }

  private static Set<Long> ids(Statement s, String sql) throws SQLException {
    Set<Long> ids = new TreeSet<>();
    try (ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) ids.add(rs.getLong(1));
    }
    return ids;
  }

  /**
   * The comparison.
   *
   * @param accepted the ids the client got a 201 for
   * @param missing accepted ids not in the database
   * @param unconfirmed accepted ids in the database without confirmation
   * @param unacknowledged ids in the database the client saw no 201 for (allowed: e.g. a response
   *     lost to a closed connection, or to a crash after the commit)
   * @param givenTwice ids the client got in two 201s
   * @param confirmedTwice stored orders with more than one confirmation row
   * @param halfServed responses that started and were cut
   */
  public record Verdict(
      Set<Long> accepted,
      List<Long> missing,
      List<Long> unconfirmed,
      List<Long> unacknowledged,
      List<Long> givenTwice,
      List<Long> confirmedTwice,
      long halfServed) {
    /**
     * Whether every 201 is a stored order confirmed once, no id was given twice, and nothing was
     * half-served.
     */
    public boolean held() {
      return missing.isEmpty()
          && unconfirmed.isEmpty()
          && givenTwice.isEmpty()
          && confirmedTwice.isEmpty()
          && halfServed == 0;
    }
  }

  public static Verdict check(Collection<Long> acceptedIds, Db db, long halfServed) {
    Set<Long> accepted = new TreeSet<>();
    Set<Long> twice = new TreeSet<>();
    for (long id : acceptedIds) if (!accepted.add(id)) twice.add(id);
    List<Long> missing = new ArrayList<>(), unconfirmed = new ArrayList<>();
    for (long id : accepted) {
      if (!db.orders().contains(id)) {
        missing.add(id);
      } else if (!db.confirmed().contains(id)) {
        unconfirmed.add(id);
      }
    }
    List<Long> unacknowledged = db.orders().stream().filter(id -> !accepted.contains(id)).toList();
    return new Verdict(
        accepted,
        missing,
        unconfirmed,
        unacknowledged,
        List.copyOf(twice),
        List.copyOf(db.confirmedTwice()),
        halfServed);
  }

  /** Compares, prints, and exits 0 if the guarantee held. */
  public static void main(String[] args) throws IOException {
    String url = null;
    List<Path> loads = new ArrayList<>();
    Integer exitCode = null;
    Long shutdownMillis = null;
    Integer signalAfter = null;
    Integer killAfter = null;
    Long killedAt = null;
    try {
      for (String arg : args) {
        int eq = arg.indexOf('=');
        String key = eq < 0 ? arg : arg.substring(0, eq);
        String value = eq < 0 ? "" : arg.substring(eq + 1).trim();
        if (value.isEmpty()) throw new IllegalArgumentException("'" + arg + "' needs a value");
        switch (key) {
          case "--db" -> url = value;
          case "--load" -> loads.add(Path.of(value));
          case "--exit-code" -> exitCode = Integer.valueOf(value);
          case "--shutdown-ms" -> shutdownMillis = Long.valueOf(value);
          case "--signal-after" -> signalAfter = Integer.valueOf(value);
          case "--kill-after" -> killAfter = Integer.valueOf(value);
          case "--killed-at" -> killedAt = Long.valueOf(value);
          default -> throw new IllegalArgumentException("unknown argument '" + arg + "'");
        }
      }
      if (url == null || loads.isEmpty()) {
        throw new IllegalArgumentException("--db and --load needed");
      }
    } catch (IllegalArgumentException e) { // NumberFormatException too
      System.err.println("OrdersReport: bad arguments: " + e.getMessage());
      System.exit(2);
      return;
    }
    Properties p = new Properties(); // the loads' counts, added up
    List<Long> accepted = new ArrayList<>();
    for (Path load : loads) {
      Properties one = new Properties();
      one.load(new StringReader(Files.readString(load.resolve("load.properties"))));
      for (String key : one.stringPropertyNames()) {
        long sum = num(p, key) + Long.parseLong(one.getProperty(key));
        p.setProperty(key, Long.toString(sum));
      }
      Files.readAllLines(load.resolve("accepted-ids.txt")).stream()
          .filter(l -> !l.isBlank())
          .forEach(l -> accepted.add(Long.valueOf(l.strip())));
    }
    long halfServed = Long.parseLong(p.getProperty("half_served", "0"));
    Db db;
    try {
      db = read(url);
    } catch (SQLException e) {
      System.out.println("cannot read the orders database " + url + ": " + e.getMessage());
      System.exit(1);
      return;
    }
    Verdict v = check(accepted, db, halfServed);
    long confirmedStored = db.orders().stream().filter(db.confirmed()::contains).count();

    System.out.println();
    System.out.println(
        (killAfter != null ? "crash under load: " : "shutdown under load: ")
            + p.getProperty("requests")
            + " POST /orders"
            + (killAfter != null
                ? ", kill -9 after "
                    + killAfter
                    + " accepted, then "
                    + (killedAt != null ? "another instance" : "a restart")
                : "")
            + (signalAfter != null ? ", SIGTERM after " + signalAfter + " accepted" : ""));
    row("accepted orders (201 seen by the client)", v.accepted().size(), "");
    row("orders in the database", db.orders().size(), "");
    row("confirmed orders", confirmedStored, "");
    row("accepted but not confirmed", v.unconfirmed().size(), ids(v.unconfirmed()));
    row("ids given in two 201s", v.givenTwice().size(), ids(v.givenTwice()));
    row("orders confirmed more than once", v.confirmedTwice().size(), ids(v.confirmedTwice()));
    row("accepted but not in the database", v.missing().size(), ids(v.missing()));
    row("stored without a 201 seen (allowed)", v.unacknowledged().size(), ids(v.unacknowledged()));
    row("requests refused (connection refused)", num(p, "refused"), "");
    row("no response (closed before any byte)", num(p, "no_response"), "");
    row("other statuses", num(p, "other_status"), statuses(p));
    row("errors (timeouts, other)", num(p, "error"), "");
    row("half-served responses", halfServed, "");
    if (exitCode != null) {
      System.out.printf(
          Locale.ROOT, "  %-42s %8d  %s%n", "exit code", exitCode, describeExit(exitCode));
    }
    if (shutdownMillis != null) {
      System.out.printf(
          Locale.ROOT,
          "  %-42s %8.2f s%n",
          "shutdown time (SIGTERM to exit)",
          shutdownMillis / 1000.0);
    }
    if (killedAt != null) {
      try {
        System.out.println(takenOver(url, killedAt));
      } catch (SQLException e) {
        System.out.println("  cannot read the journal: " + e.getMessage());
      }
    }
    if (killAfter == null && num(p, "refused") + num(p, "no_response") == 0) {
      System.out.println(
          "note: no request was refused: the load ended before the listener closed; send the"
              + " signal earlier or send more requests to see the refusals");
    }
    if (v.held()) {
      System.out.println(
          "GUARANTEE HELD: every order that got a 201 is stored and confirmed once;"
              + " no id was given twice; no response was half-served");
      System.exit(0);
    } else {
      System.out.println(
          "GUARANTEE BROKEN: "
              + v.unconfirmed().size()
              + " accepted orders not confirmed, "
              + v.missing().size()
              + " not stored, "
              + v.givenTwice().size()
              + " ids given twice, "
              + v.confirmedTwice().size()
              + " confirmed more than once, "
              + halfServed
              + " half-served responses");
      System.exit(1);
    }
  }

  /**
   * One line about the confirmations claimed more than once (the journal's {@code attempts}): those
   * a killed instance had claimed, taken over by another; when they were written, from {@code
   * killedAt} (epoch milliseconds).
   */
  public static String takenOver(String url, long killedAt) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT c.confirmed_at FROM lifespan_journal j JOIN confirmations c"
                    + " ON c.order_id = CAST(j.entry_key AS BIGINT)"
                    + " WHERE j.kind = 'confirm-order' AND j.attempts > 1")) {
      long n = 0, first = Long.MAX_VALUE, last = Long.MIN_VALUE;
      while (rs.next()) {
        long at = rs.getObject(1, java.time.OffsetDateTime.class).toInstant().toEpochMilli();
        n++;
        first = Math.min(first, at);
        last = Math.max(last, at);
      }
      String when =
          n == 0
              ? ""
              : String.format(
                  Locale.ROOT,
                  "  (confirmed %.2f s to %.2f s after the kill)",
                  (first - killedAt) / 1000.0,
                  (last - killedAt) / 1000.0);
      return String.format(
          Locale.ROOT, "  %-42s %8d%s", "claimed again (a dead instance's claim)", n, when);
    }
  }

  private static long num(Properties p, String key) {
    return Long.parseLong(p.getProperty(key, "0"));
  }

  private static String statuses(Properties p) {
    StringBuilder sb = new StringBuilder();
    for (String key : new TreeSet<>(p.stringPropertyNames())) {
      if (key.startsWith("status.")) {
        if (!sb.isEmpty()) sb.append(", ");
        sb.append(key.substring(7)).append(": ").append(p.getProperty(key));
      }
    }
    return sb.toString();
  }

  private static void row(String what, long n, String note) {
    System.out.printf(
        Locale.ROOT, "  %-42s %8d%s%n", what, n, note.isEmpty() ? "" : "  (" + note + ")");
  }

  private static String ids(List<Long> ids) {
    if (ids.isEmpty()) return "";
    List<Long> some = ids.subList(0, Math.min(10, ids.size()));
    return "ids " + some + (ids.size() > some.size() ? " ..." : "");
  }

  private static String describeExit(int code) {
    return switch (code) {
      case 143 -> "(TERMINATED by SIGTERM, as expected)";
      case 130 -> "(INTERRUPTED by SIGINT)";
      case 0 -> "(SUCCEEDED)";
      case 1 -> "(FAILED)";
      case 3 -> "(STARTUP_FAILED)";
      default -> "(unexpected)";
    };
  }
}
