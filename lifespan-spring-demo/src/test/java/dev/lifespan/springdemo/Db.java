package dev.lifespan.springdemo;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the orders database holds, read after the service has exited.
 *
 * @param orders the ids of the stored orders
 * @param confirmed the ids of the confirmed orders
 * @param confirmedTwice the ids of the orders with more than one confirmation row
 */
record Db(Set<Long> orders, Set<Long> confirmed, Set<Long> confirmedTwice) {

  static Db read(String url) throws SQLException {
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

  /** Of {@code accepted}, the ids that are not confirmed exactly once. */
  Set<Long> notConfirmedOnce(Iterable<Long> accepted) {
    Set<Long> bad = new TreeSet<>();
    for (long id : accepted) {
      if (!confirmed.contains(id) || confirmedTwice.contains(id)) bad.add(id);
    }
    return bad;
  }
}
