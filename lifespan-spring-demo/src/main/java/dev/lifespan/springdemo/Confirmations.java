package dev.lifespan.springdemo;

/**
 * How an order is taken and confirmed: stored, then confirmed by a slow downstream call (simulated,
 * {@code demo.confirm-ms}). Two implementations, one per {@link DemoProperties#mode() mode}: {@link
 * JournalConfirmations} (the Lifespan starter) and {@link AsyncConfirmations} (plain Spring).
 */
public interface Confirmations {
  /**
   * Stores {@code order} and arranges its confirmation; returns the order's id once what the
   * implementation promises is durable.
   */
  long take(NewOrder order);
}
