package dev.lifespan;

import dev.lifespan.internal.StartGate;

/**
 * How a task started with {@link TaskGroup#start} reports that it is ready. Report exactly once,
 * from any thread.
 *
 * @param <V> the value reported
 */
public sealed interface Started<V> permits StartGate {
  /**
   * Reports the task ready with {@code value} (may be null), which {@link TaskGroup#start} returns.
   *
   * @throws IllegalStateException if the task already reported, naming the task
   */
  void started(V value);

  /** Reports the task ready without a value. */
  default void started() {
    started(null);
  }
}
