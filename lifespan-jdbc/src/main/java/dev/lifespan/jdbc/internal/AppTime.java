package dev.lifespan.jdbc.internal;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import java.time.Duration;
import java.time.Instant;

/**
 * The wall-clock time of one application's clock ({@link App.Options#withClock}), readable from any
 * thread: leases and retry times are stored as epoch milliseconds of this clock.
 *
 * <p>The public API has no "now" of the application's clock, so it is derived once, on a thread of
 * the application, from a scope's deadline (a scope opened with a timeout reports its deadline as
 * an instant of its clock), and afterwards moved by {@link App#uptime()}, which reads the same
 * clock. A core {@code TimeSource} getter would replace this.
 */
final class AppTime {
  private static final Duration PROBE = Duration.ofDays(1);

  private final App app;
  private final Instant base; // the clock's instant when uptime was baseUptime
  private final Duration baseUptime;

  /** Reads the clock; call on a thread of {@code app}. */
  AppTime(App app) {
    this.app = app;
    this.baseUptime = app.uptime();
    this.base =
        CancelScope.call(
            CancelScope.Options.DEFAULT.withTimeout(PROBE),
            s -> s.deadline().orElseThrow().minus(PROBE));
  }

  /** Now, on the application's clock. */
  Instant now() {
    return base.plus(app.uptime().minus(baseUptime));
  }

  /** Now, in epoch milliseconds. */
  long nowMillis() {
    return now().toEpochMilli();
  }
}
