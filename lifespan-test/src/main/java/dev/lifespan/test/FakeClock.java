package dev.lifespan.test;

import dev.lifespan.App;
import dev.lifespan.TimeSource;
import java.time.Duration;
import java.time.Instant;

/**
 * A clock whose time moves only when a test calls {@link #advance}: run an application on it
 * ({@link App.Options#withClock}) and its shutdown becomes a timeline, with no real sleeps and no
 * timing tolerance.
 *
 * {@snippet :
 * FakeClock clock = new FakeClock();
 * App app = App.start(App.Options.named("orders").withClock(clock).withGrace(Duration.ofSeconds(30)),
 *     Lifespan.of(confirmations), null);      // a layer with a must-finish task that never ends
 * app.awaitReady();
 * app.signal(App.Signal.TERM);
 * clock.advance(Duration.ofSeconds(29));
 * assertTrue(app.await(Duration.ZERO).isEmpty());     // still waiting for the must-finish task
 * clock.advance(Duration.ofSeconds(1));               // the grace period ends: it is abandoned
 * assertEquals(App.Outcome.WORK_ABANDONED, app.await().outcome());
 * }
 *
 * <h2>What moves with it</h2>
 *
 * Every wait the library makes for the application: deadlines of its cancel scopes, the drain
 * delay, the grace period, kill timeouts, the hard deadline, progress lines, restart backoff, timed
 * joins and {@link App#await(Duration)}. Deadlines are absolute, counted from the moment they were
 * set (a grace period from the first signal), so a test may advance the clock before or after the
 * application reaches a wait: a wait that begins after its deadline ends at once. Real blocking
 * calls in user code ({@link Thread#sleep}, I/O) still take real time.
 *
 * <h2>Threads</h2>
 *
 * {@link #advance} fires each deadline it reaches on the calling thread before it returns; what the
 * deadline then causes (a cancelled task ending, the runner moving to its next phase) happens on
 * the application's threads, so a test waits for those effects with {@link App#await()}, latches or
 * progress lines. Several threads may call {@code advance}; they are serialized.
 */
public final class FakeClock extends TimeSource {
  private final Instant epoch;
  private volatile long nanos;

  /** A clock at {@code 2026-01-01T00:00:00Z}, nanoTime 0. */
  public FakeClock() {
    this(Instant.parse("2026-01-01T00:00:00Z"));
  }

  /** A clock whose {@link #instant()} starts at {@code epoch}. */
  public FakeClock(Instant epoch) {
    if (epoch == null) throw new NullPointerException("epoch");
    this.epoch = epoch;
  }

  @Override
  public long nanoTime() {
    return nanos;
  }

  @Override
  public Instant instant() {
    return epoch.plusNanos(nanos);
  }

  /** How far the clock has been advanced since it was made. */
  public Duration elapsed() {
    return Duration.ofNanos(nanos);
  }

  /**
   * Moves time forward by {@code step} and fires every deadline reached, on this thread.
   *
   * @throws IllegalArgumentException if {@code step} is negative, or moves the clock more than
   *     about 292 years from its start
   */
  public void advance(Duration step) {
    if (step == null) throw new NullPointerException("step");
    if (step.isNegative()) throw new IllegalArgumentException("step < 0: " + step);
    synchronized (this) {
      long n;
      try {
        n = Math.addExact(nanos, step.toNanos());
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            "step " + step + " moves the clock past 292 years from its start (" + elapsed() + ")");
      }
      nanos = n;
      fire();
    }
  }

  @Override
  public String toString() {
    return "FakeClock[" + elapsed() + " since " + epoch + "]";
  }
}
