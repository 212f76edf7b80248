package dev.lifespan.jdbc.internal;

import dev.lifespan.jdbc.Entry;
import dev.lifespan.jdbc.Journal;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The journal's SQL for one table on one database. Every method runs on a connection it is given
 * and neither commits nor closes it, except where it says so.
 */
final class Sql {
  enum Dialect {
    H2,
    POSTGRESQL
  }

  /** A claimed entry: its row, the claim's sequence number, and the entry. */
  record Claim(long id, long seq, Entry entry) {}

  private static final String COLUMNS = "id, kind, entry_key, payload, attempts, claim_seq";
  private static final String UNIQUE_VIOLATION = "23505";

  final Dialect dialect;
  private final String t;

  Sql(Dialect dialect, String table) {
    this.dialect = dialect;
    this.t = table;
  }

  /** The dialect of {@code c}'s database. */
  static Dialect detect(Connection c, String journal) throws SQLException {
    String product = c.getMetaData().getDatabaseProductName();
    if (product.contains("PostgreSQL")) return Dialect.POSTGRESQL;
    if (product.contains("H2")) return Dialect.H2;
    throw new IllegalStateException(
        "database '"
            + product
            + "' is not supported by journal '"
            + journal
            + "' (H2, PostgreSQL)");
  }

  /** The statements of {@code schema.sql} for this table. */
  List<String> schema() {
    String text;
    try (InputStream in = Journal.class.getResourceAsStream("schema.sql")) {
      if (in == null)
        throw new IllegalStateException("resource dev/lifespan/jdbc/schema.sql missing");
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read dev/lifespan/jdbc/schema.sql", e);
    }
    StringBuilder sql = new StringBuilder();
    for (String line : text.split("\n")) {
      if (!line.strip().startsWith("--")) sql.append(line).append('\n');
    }
    List<String> statements = new ArrayList<>();
    for (String s : sql.toString().split(";")) {
      if (!s.isBlank()) statements.add(s.strip().replace("lifespan_journal", t));
    }
    return statements;
  }

  /** Creates the table and its indexes if they do not exist; commits each statement. */
  void createSchema(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String statement : schema()) s.execute(statement);
    }
  }

  /** Writes a pending entry unless its kind and key exist; returns whether it wrote one. */
  boolean insert(Connection c, String kind, String key, String payload) throws SQLException {
    String sql =
        switch (dialect) {
          case POSTGRESQL ->
              "INSERT INTO "
                  + t
                  + " (kind, entry_key, payload, status, attempts, next_at, claim_seq)"
                  + " VALUES (?, ?, ?, 'PENDING', 0, 0, 0) ON CONFLICT (kind, entry_key) DO NOTHING";
          // H2 rolls back a failed statement only, not the transaction: a concurrent insert of the
          // same key that wins the race is a unique violation here, and means "exists".
          case H2 ->
              "INSERT INTO "
                  + t
                  + " (kind, entry_key, payload, status, attempts, next_at, claim_seq)"
                  + " SELECT CAST(? AS VARCHAR(200)), CAST(? AS VARCHAR(500)),"
                  + " CAST(? AS VARCHAR(16384)), 'PENDING', 0, 0, 0 FROM (VALUES (0)) AS one (x)"
                  + " WHERE NOT EXISTS (SELECT 1 FROM "
                  + t
                  + " WHERE kind = ? AND entry_key = ?)";
        };
    try (PreparedStatement p = c.prepareStatement(sql)) {
      p.setString(1, kind);
      p.setString(2, key);
      p.setString(3, payload);
      if (dialect == Dialect.H2) {
        p.setString(4, kind);
        p.setString(5, key);
      }
      for (int taken = 0; ; taken++) {
        try {
          return p.executeUpdate() == 1;
        } catch (SQLException e) {
          if (dialect != Dialect.H2 || !UNIQUE_VIOLATION.equals(e.getSQLState())) throw e;
          if (exists(c, kind, key)) return false;
          // The other unique key, the row id: after a crash H2 can hand out identity values that
          // rows already hold (its sequence on disk behind the rows; seen after kill -9 with
          // WRITE_DELAY=0). Each failed insert took the next value, so trying again gets past
          // them; taking the violation for "exists" lost the entry while its order committed.
          if (taken == MAX_TAKEN_IDS) {
            throw new SQLException(
                "journal entry "
                    + kind
                    + "/"
                    + key
                    + " not written: "
                    + MAX_TAKEN_IDS
                    + " row ids in a row were taken already in table "
                    + t,
                e.getSQLState(),
                e);
          }
        }
      }
    }
  }

  /** How many taken row ids an insert skips before it gives up (see {@link #insert}). */
  private static final int MAX_TAKEN_IDS = 100_000;

  private boolean exists(Connection c, String kind, String key) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement("SELECT 1 FROM " + t + " WHERE kind = ? AND entry_key = ?")) {
      p.setString(1, kind);
      p.setString(2, key);
      try (ResultSet r = p.executeQuery()) {
        return r.next();
      }
    }
  }

  /**
   * Claims at most {@code limit} due, unleased entries of {@code kinds} for {@code owner} until
   * {@code leaseUntil}; {@code c} is in auto-commit mode, so every claim is committed on return.
   */
  List<Claim> claim(
      Connection c, String owner, long now, long leaseUntil, List<String> kinds, int limit)
      throws SQLException {
    String due =
        " WHERE status = 'PENDING' AND kind IN ("
            + String.join(", ", Collections.nCopies(kinds.size(), "?"))
            + ") AND next_at <= ? AND (lease_owner IS NULL OR lease_until < ?)";
    // Ordered by the due index's own columns (status is fixed by the condition), so that both
    // databases read that index in order and stop at the limit. "ORDER BY next_at, id" made them
    // read and sort every pending entry at each claim: with 10,000 pending, 57 ms per claim on
    // PostgreSQL (a sequential scan and a sort) instead of 0.35 ms. Ties in next_at come in the
    // index's order: the row id's on H2, the rows' physical order on PostgreSQL.
    String order = " ORDER BY status, next_at LIMIT ?";
    if (dialect == Dialect.POSTGRESQL) {
      // One statement: rows locked by a concurrent claim are skipped, not waited for; a row whose
      // claim committed meanwhile is re-checked against the condition before it is locked.
      String sql =
          "UPDATE "
              + t
              + " SET lease_owner = ?, lease_until = ?, attempts = attempts + 1,"
              + " claim_seq = claim_seq + 1 WHERE id IN (SELECT id FROM "
              + t
              + due
              + order
              + " FOR UPDATE SKIP LOCKED) RETURNING "
              + COLUMNS;
      try (PreparedStatement p = c.prepareStatement(sql)) {
        int i = 1;
        p.setString(i++, owner);
        p.setLong(i++, leaseUntil);
        i = bindDue(p, i, kinds, now);
        p.setInt(i, limit);
        List<Claim> claims = new ArrayList<>();
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) claims.add(claim(r, 0));
        }
        return claims;
      }
    }
    // H2: read candidates, then claim each with an update conditional on its claim sequence. H2
    // locks the row and re-evaluates the condition of an update that waited for a concurrent one,
    // so of two instances claiming one row, exactly one updates it. The updates commit together:
    // with WRITE_DELAY=0 every H2 commit writes the store, and a commit per row made the claim
    // loop the journal's bottleneck.
    boolean autoCommit = c.getAutoCommit();
    if (!autoCommit) return claimH2(c, owner, now, leaseUntil, due, order, kinds, limit);
    c.setAutoCommit(false);
    try {
      List<Claim> claims = claimH2(c, owner, now, leaseUntil, due, order, kinds, limit);
      c.commit();
      return claims;
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException r) {
        e.addSuppressed(r);
      }
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  /** H2's claim, in {@code c}'s transaction. */
  private List<Claim> claimH2(
      Connection c,
      String owner,
      long now,
      long leaseUntil,
      String due,
      String order,
      List<String> kinds,
      int limit)
      throws SQLException {
    List<Claim> candidates = new ArrayList<>();
    try (PreparedStatement p =
        c.prepareStatement("SELECT " + COLUMNS + " FROM " + t + due + order)) {
      int i = bindDue(p, 1, kinds, now);
      p.setInt(i, limit);
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) candidates.add(claim(r, 1));
      }
    }
    List<Claim> claims = new ArrayList<>();
    try (PreparedStatement p =
        c.prepareStatement(
            "UPDATE "
                + t
                + " SET lease_owner = ?, lease_until = ?, attempts = attempts + 1,"
                + " claim_seq = claim_seq + 1 WHERE id = ? AND claim_seq = ? AND status = 'PENDING'"
                + " AND (lease_owner IS NULL OR lease_until < ?)")) {
      for (Claim k : candidates) {
        p.setString(1, owner);
        p.setLong(2, leaseUntil);
        p.setLong(3, k.id());
        p.setLong(4, k.seq() - 1);
        p.setLong(5, now);
        if (p.executeUpdate() == 1) claims.add(k);
      }
    }
    return claims;
  }

  /**
   * Claims the entry of {@code kind} and {@code key} for {@code owner} until {@code leaseUntil} if
   * it is pending, due and not leased; returns the claim, or null if it was not claimable. Runs in
   * {@code c}'s transaction (the caller commits).
   */
  Claim claimKey(Connection c, String owner, long now, long leaseUntil, String kind, String key)
      throws SQLException {
    // One statement that claims and returns the row: RETURNING on PostgreSQL, a data change delta
    // table on H2 (before, an UPDATE and then a SELECT of the row).
    String update =
        "UPDATE "
            + t
            + " SET lease_owner = ?, lease_until = ?, attempts = attempts + 1,"
            + " claim_seq = claim_seq + 1 WHERE kind = ? AND entry_key = ?"
            + " AND status = 'PENDING' AND next_at <= ?"
            + " AND (lease_owner IS NULL OR lease_until < ?)";
    String sql =
        switch (dialect) {
          case POSTGRESQL -> update + " RETURNING " + COLUMNS;
          case H2 -> "SELECT " + COLUMNS + " FROM FINAL TABLE (" + update + ")";
        };
    try (PreparedStatement p = c.prepareStatement(sql)) {
      p.setString(1, owner);
      p.setLong(2, leaseUntil);
      p.setString(3, kind);
      p.setString(4, key);
      p.setLong(5, now);
      p.setLong(6, now);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? claim(r, 0) : null;
      }
    }
  }

  private static int bindDue(PreparedStatement p, int i, List<String> kinds, long now)
      throws SQLException {
    for (String kind : kinds) p.setString(i++, kind);
    p.setLong(i++, now);
    p.setLong(i++, now);
    return i;
  }

  /**
   * A claim from a row of {@link #COLUMNS}, whose counters are {@code pending} short of claimed.
   */
  private static Claim claim(ResultSet r, int pending) throws SQLException {
    return new Claim(
        r.getLong(1),
        r.getLong(6) + pending,
        new Entry(r.getString(2), r.getString(3), r.getString(4), r.getInt(5) + pending));
  }

  /** Extends every lease of {@code owner} to {@code leaseUntil}; returns how many. */
  int renew(Connection c, String owner, long leaseUntil) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "UPDATE " + t + " SET lease_until = ? WHERE lease_owner = ? AND status = 'PENDING'")) {
      p.setLong(1, leaseUntil);
      p.setString(2, owner);
      return p.executeUpdate();
    }
  }

  /**
   * Marks the claimed entry done at {@code now} (application clock, kept in {@code next_at} for the
   * retention) if the claim still holds; returns whether it did.
   */
  boolean done(Connection c, Claim k, String owner, long now) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "UPDATE "
                + t
                + " SET status = 'DONE', lease_owner = NULL, lease_until = NULL, next_at = ?,"
                + " finished_at = CURRENT_TIMESTAMP WHERE id = ? AND lease_owner = ? AND claim_seq = ?")) {
      p.setLong(1, now);
      p.setLong(2, k.id());
      p.setString(3, owner);
      p.setLong(4, k.seq());
      return p.executeUpdate() == 1;
    }
  }

  /**
   * Deletes at most {@code limit} done entries that ended before {@code before} (application
   * clock); returns how many. {@code c} is in auto-commit mode.
   */
  int purgeDone(Connection c, long before, int limit) throws SQLException {
    String sql =
        switch (dialect) {
          case POSTGRESQL ->
              "DELETE FROM "
                  + t
                  + " WHERE id IN (SELECT id FROM "
                  + t
                  + " WHERE status = 'DONE' AND next_at < ? ORDER BY next_at, id LIMIT ?"
                  + " FOR UPDATE SKIP LOCKED)";
          case H2 ->
              "DELETE FROM " + t + " WHERE status = 'DONE' AND next_at < ? FETCH FIRST ? ROWS ONLY";
        };
    try (PreparedStatement p = c.prepareStatement(sql)) {
      p.setLong(1, before);
      p.setInt(2, limit);
      return p.executeUpdate();
    }
  }

  /** An entry as a dump lists it: its kind and key, and how long ago it was enqueued. */
  record Listed(String kind, String key, long ageMillis) {}

  /**
   * At most {@code limit} entries of {@code status}, oldest first, without the pending ones leased
   * to {@code owner} (they run here); the age is measured on the database's clock.
   */
  List<Listed> list(Connection c, String status, String owner, int limit) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "SELECT kind, entry_key, created_at, LOCALTIMESTAMP FROM "
                + t
                + " WHERE status = ? AND (lease_owner IS NULL OR lease_owner <> ?)"
                + " ORDER BY id LIMIT ?")) {
      p.setQueryTimeout(5);
      p.setString(1, status);
      p.setString(2, owner);
      p.setInt(3, limit);
      List<Listed> out = new ArrayList<>();
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          long age = r.getTimestamp(4).getTime() - r.getTimestamp(3).getTime();
          out.add(new Listed(r.getString(1), r.getString(2), age));
        }
      }
      return out;
    }
  }

  /** How many entries {@link #list} would list without a limit. */
  long count(Connection c, String status, String owner) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "SELECT COUNT(*) FROM "
                + t
                + " WHERE status = ? AND (lease_owner IS NULL OR lease_owner <> ?)")) {
      p.setQueryTimeout(5);
      p.setString(1, status);
      p.setString(2, owner);
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  /** How many entries have {@code status}, whoever leases them. */
  long count(Connection c, String status) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement("SELECT COUNT(*) FROM " + t + " WHERE status = ?")) {
      p.setQueryTimeout(5);
      p.setString(1, status);
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  /** Releases the claim and makes the entry due at {@code nextAt}; returns whether it held. */
  boolean retryAt(Connection c, Claim k, String owner, long nextAt, String error)
      throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "UPDATE "
                + t
                + " SET lease_owner = NULL, lease_until = NULL, next_at = ?, last_error = ?"
                + " WHERE id = ? AND lease_owner = ? AND claim_seq = ?")) {
      p.setLong(1, nextAt);
      p.setString(2, error);
      p.setLong(3, k.id());
      p.setString(4, owner);
      p.setLong(5, k.seq());
      return p.executeUpdate() == 1;
    }
  }

  /**
   * Marks the claimed entry failed at {@code now} (application clock) if the claim still holds;
   * returns whether it did.
   */
  boolean fail(Connection c, Claim k, String owner, String error, long now) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "UPDATE "
                + t
                + " SET status = 'FAILED', lease_owner = NULL, lease_until = NULL, last_error = ?,"
                + " next_at = ?, finished_at = CURRENT_TIMESTAMP"
                + " WHERE id = ? AND lease_owner = ? AND claim_seq = ?")) {
      p.setString(1, error);
      p.setLong(2, now);
      p.setLong(3, k.id());
      p.setString(4, owner);
      p.setLong(5, k.seq());
      return p.executeUpdate() == 1;
    }
  }

  /** Releases the claim, leaving the entry pending and due; returns whether it held. */
  boolean release(Connection c, Claim k, String owner) throws SQLException {
    return update(c, "lease_owner = NULL, lease_until = NULL", k, owner);
  }

  /** Releases every lease of {@code owner}; returns how many. */
  int releaseAll(Connection c, String owner) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "UPDATE "
                + t
                + " SET lease_owner = NULL, lease_until = NULL"
                + " WHERE lease_owner = ? AND status = 'PENDING'")) {
      p.setString(1, owner);
      return p.executeUpdate();
    }
  }

  /** The status of the entry of {@code kind} and {@code key}. */
  Optional<Entry.Status> status(Connection c, String kind, String key) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement("SELECT status FROM " + t + " WHERE kind = ? AND entry_key = ?")) {
      p.setString(1, kind);
      p.setString(2, key);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? Optional.of(Entry.Status.valueOf(r.getString(1))) : Optional.empty();
      }
    }
  }

  private boolean update(Connection c, String set, Claim k, String owner) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "UPDATE "
                + t
                + " SET "
                + set
                + " WHERE id = ? AND lease_owner = ? AND claim_seq = ?")) {
      p.setLong(1, k.id());
      p.setString(2, owner);
      p.setLong(3, k.seq());
      return p.executeUpdate() == 1;
    }
  }
}
