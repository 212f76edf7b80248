package dev.lifespan.jdbc;

import java.util.Objects;

/**
 * One entry of a {@link Journal} as its handler sees it: durable work, described by data so that it
 * can be re-created after a crash.
 *
 * @param kind the name of the entry's {@link Kind}
 * @param key the idempotency key, unique within the kind: the entry's identity
 * @param payload the small text the entry was enqueued with (may be empty, never null)
 * @param attempt which run this is, from 1: how many times the entry has been claimed, including
 *     runs lost to a crash or a shutdown
 */
public record Entry(String kind, String key, String payload, int attempt) {
  /** Validates. */
  public Entry {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(payload, "payload");
    if (attempt < 1) throw new IllegalArgumentException("attempt < 1: " + attempt);
  }

  /** The state of an entry in the journal's table. */
  public enum Status {
    /** Enqueued and committed, not done yet: waiting, running, or waiting for a retry. */
    PENDING,
    /** Its handler's transaction committed, with the done mark. */
    DONE,
    /** Its handler failed as many times as its kind allows; reported once. */
    FAILED
  }

  @Override
  public String toString() {
    return kind + "/" + key + " (attempt " + attempt + ")";
  }
}
