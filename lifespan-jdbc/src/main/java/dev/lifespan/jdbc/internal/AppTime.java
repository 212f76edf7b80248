package dev.lifespan.jdbc.internal;

import dev.lifespan.App;
import dev.lifespan.TimeSource;
import java.time.Instant;

/**
 * The wall-clock time of one application's clock ({@link App#clock()}), readable from any thread:
 * leases and retry times are stored as epoch milliseconds of this clock, so a fake clock moves them
 * too.
 */
final class AppTime {
  private final TimeSource clock;

  AppTime(App app) {
    this.clock = app.clock();
  }

  /** Now, on the application's clock. */
  Instant now() {
    return clock.instant();
  }

  /** Now, in epoch milliseconds. */
  long nowMillis() {
    return now().toEpochMilli();
  }
}
