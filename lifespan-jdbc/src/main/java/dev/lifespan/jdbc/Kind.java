package dev.lifespan.jdbc;

import java.sql.Connection;
import java.time.Duration;
import java.util.Objects;

/**
 * A kind of durable work: a name, the handler that does it, and how often a failure is retried.
 * Immutable; each {@code with} method returns a copy. Registered with {@link Journal#register}
 * before the application is ready.
 *
 * {@snippet :
 * Kind confirm = Kind.of("confirm-order", (entry, connection) -> {
 *     long order = Long.parseLong(entry.key());
 *     try (var insert = connection.prepareStatement(
 *             "INSERT INTO confirmations (order_id) VALUES (?)")) {
 *         insert.setLong(1, order);
 *         insert.executeUpdate();       // commits together with the entry's done mark
 *     }
 * }).withMaxAttempts(5).withBackoff(Duration.ofSeconds(1), Duration.ofMinutes(1));
 * }
 *
 * <h2>Retries</h2>
 *
 * A run that fails is retried after a backoff that doubles from run to run: {@code initial}, {@code
 * 2 × initial}, {@code 4 × initial}, ... at most {@code max}, on the application's clock, without
 * jitter. A run that fails when the entry has been claimed {@link #maxAttempts()} times or more
 * marks the entry {@link Entry.Status#FAILED} and reports it once to the journal's failure handler
 * instead. Runs lost to a crash or a shutdown count as attempts (so an entry that kills its process
 * every time cannot loop forever) but never fail the entry by themselves.
 */
public final class Kind {
  /** Longest kind name, in characters. */
  public static final int MAX_NAME_LENGTH = 200;

  private final String name;
  private final Handler handler;
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;

  private Kind(
      String name, Handler handler, int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    this.name = name;
    this.handler = handler;
    this.maxAttempts = maxAttempts;
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
  }

  /**
   * Does the work of one entry.
   *
   * <h2>Transaction</h2>
   *
   * The handler is given a connection of the journal's {@code DataSource} in a transaction
   * (auto-commit off). When it returns, the journal marks the entry done in that same transaction
   * and commits: the handler's database work and the done mark commit together, or not at all. The
   * handler must not commit, roll back or close the connection. When it throws, the transaction is
   * rolled back and the run counts as failed.
   *
   * <h2>Threads and cancellation</h2>
   *
   * It runs on its own virtual thread, a must-finish task of the application's background
   * supervisor named {@code journal '<journal>' <kind>/<key>}, so the application's shutdown waits
   * for it until the grace period ends; then it is cancelled (its thread interrupted): the
   * transaction is rolled back and the entry stays pending for the next start. Once the handler has
   * returned, the done mark and the commit finish even then, in a shield, with no interrupt
   * reaching the driver. A handler whose JDBC calls an interrupt would break (an embedded H2's file
   * I/O) runs them in a scope opened {@linkplain
   * dev.lifespan.CancelScope.Options#withoutInterrupts() without interrupts}, its statements
   * through {@link dev.lifespan.CancelHooks#execute}, which cancels the one running when the grace
   * period ends. Execution is at least once — a crash can happen anywhere — so a handler is written
   * to be idempotent by the entry's key; work inside the transaction is exactly once in effect.
   */
  @FunctionalInterface
  public interface Handler {
    /** Does {@code entry}'s work, in {@code connection}'s open transaction. */
    void handle(Entry entry, Connection connection) throws Exception;
  }

  /**
   * A kind called {@code name} done by {@code handler}; 8 attempts, backoff from 1 s to 1 min.
   *
   * @throws IllegalArgumentException if {@code name} is blank or longer than {@value
   *     #MAX_NAME_LENGTH} characters
   */
  public static Kind of(String name, Handler handler) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(handler, "handler");
    if (name.isBlank()) throw new IllegalArgumentException("Kind name is blank: '" + name + "'");
    if (name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "Kind name longer than " + MAX_NAME_LENGTH + " characters: " + name.length());
    }
    return new Kind(name, handler, 8, Duration.ofSeconds(1), Duration.ofMinutes(1));
  }

  /** The kind's name. */
  public String name() {
    return name;
  }

  /** The kind's handler. */
  public Handler handler() {
    return handler;
  }

  /** How many times an entry is claimed, at most, before a failed run marks it failed. */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** The backoff after the first failed run. */
  public Duration initialBackoff() {
    return initialBackoff;
  }

  /** The longest backoff. */
  public Duration maxBackoff() {
    return maxBackoff;
  }

  /**
   * A copy whose entries are marked failed after a failed run once they were claimed {@code
   * maxAttempts} times; 1 means no retry.
   *
   * @throws IllegalArgumentException if {@code maxAttempts < 1}
   */
  public Kind withMaxAttempts(int maxAttempts) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException(
          "maxAttempts < 1: " + maxAttempts + " (kind '" + name + "')");
    }
    return new Kind(name, handler, maxAttempts, initialBackoff, maxBackoff);
  }

  /**
   * A copy whose backoff starts at {@code initial} and doubles up to {@code max}.
   *
   * @throws IllegalArgumentException if {@code initial} is negative or {@code max < initial}
   */
  public Kind withBackoff(Duration initial, Duration max) {
    Objects.requireNonNull(initial, "initial");
    Objects.requireNonNull(max, "max");
    if (initial.isNegative()) {
      throw new IllegalArgumentException(
          "initial backoff < 0: " + initial + " (kind '" + name + "')");
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "max backoff " + max + " < initial backoff " + initial + " (kind '" + name + "')");
    }
    return new Kind(name, handler, maxAttempts, initial, max);
  }

  /** The backoff after a failed run of an entry claimed {@code attempt} times (from 1). */
  public Duration backoff(int attempt) {
    Duration d = initialBackoff;
    for (int i = 1; i < attempt && d.compareTo(maxBackoff) < 0; i++) d = d.multipliedBy(2);
    return d.compareTo(maxBackoff) < 0 ? d : maxBackoff;
  }

  @Override
  public String toString() {
    return "Kind["
        + name
        + ", maxAttempts="
        + maxAttempts
        + ", backoff="
        + initialBackoff
        + ".."
        + maxBackoff
        + "]";
  }
}
