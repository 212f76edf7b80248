package dev.lifespan.internal;

import java.time.Duration;

/** Told by {@link ServiceRunner} each time it is about to wait and then restart a service. */
@FunctionalInterface
public interface RestartListener {
  /** Does nothing. */
  RestartListener NONE = (service, attempt, cause, delay) -> {};

  /**
   * Called on the service's thread just before the backoff wait.
   *
   * @param service the service's name
   * @param attempt which restart this is within the intensity period: 1 after a quiet period
   * @param causeOrNull the failure that ended the body, or null if it returned normally
   * @param delay how long the service waits before its body runs again
   */
  void restarting(String service, int attempt, Throwable causeOrNull, Duration delay);
}
