package dev.lifespan.springdemo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.GeneratedKeyHolder;
import org.springframework.jdbc.support.KeyHolder;
import org.springframework.stereotype.Repository;

/**
 * The orders and their confirmations, in the tables of {@code schema.sql}, through Spring's {@link
 * JdbcClient}: its calls join the caller's Spring transaction, if there is one.
 */
@Repository
public class OrderStore {
  private final JdbcClient jdbc;

  OrderStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  /** Inserts {@code order}; returns its id. */
  long insert(NewOrder order) {
    KeyHolder key = new GeneratedKeyHolder();
    jdbc.sql("INSERT INTO orders (item, quantity, created_at) VALUES (?, ?, ?)")
        .params(order.item(), order.quantity(), OffsetDateTime.now(ZoneOffset.UTC))
        .update(key, "id");
    return key.getKeyAs(Number.class).longValue();
  }

  /** Writes order {@code id}'s confirmation (through the store's pool, in its own transaction). */
  void confirm(long id, int deliveryMillis) {
    jdbc.sql("INSERT INTO confirmations (order_id, confirmed_at, delivery_ms) VALUES (?, ?, ?)")
        .params(id, OffsetDateTime.now(ZoneOffset.UTC), deliveryMillis)
        .update();
  }

  /** Writes order {@code id}'s confirmation through {@code c}, in its open transaction. */
  static void confirm(Connection c, long id, int deliveryMillis) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO confirmations (order_id, confirmed_at, delivery_ms) VALUES (?, ?, ?)")) {
      ps.setLong(1, id);
      ps.setObject(2, OffsetDateTime.now(ZoneOffset.UTC));
      ps.setInt(3, deliveryMillis);
      ps.executeUpdate();
    }
  }

  /** Order {@code id} and its confirmation, as the JSON object {@code GET /orders/{id}} shows. */
  Optional<Map<String, Object>> find(long id) {
    return jdbc.sql(
            "SELECT o.id, o.item, o.quantity, o.created_at, c.confirmed_at, c.delivery_ms"
                + " FROM orders o LEFT JOIN confirmations c ON c.order_id = o.id WHERE o.id = ?")
        .param(id)
        .query(
            (rs, n) -> {
              OffsetDateTime confirmedAt = rs.getObject(5, OffsetDateTime.class);
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("id", rs.getLong(1));
              m.put("item", rs.getString(2));
              m.put("quantity", rs.getInt(3));
              m.put("created_at", rs.getObject(4, OffsetDateTime.class).toInstant().toString());
              m.put("status", confirmedAt == null ? "pending" : "confirmed");
              m.put(
                  "confirmed_at", confirmedAt == null ? null : confirmedAt.toInstant().toString());
              m.put("delivery_ms", confirmedAt == null ? null : rs.getInt(6));
              return m;
            })
        .optional();
  }
}
