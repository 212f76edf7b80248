package dev.lifespan;

import java.time.Duration;
import java.time.Instant;

/**
 * A clock that moves only when a test calls {@link #advance}: core's own copy of {@code
 * dev.lifespan.test.FakeClock}, which core's tests cannot depend on. Run an application on it with
 * {@link App.Options#withClock}.
 */
final class TestClock extends TimeSource {
  private static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");
  private volatile long nanos;

  @Override
  public long nanoTime() {
    return nanos;
  }

  @Override
  public Instant instant() {
    return EPOCH.plusNanos(nanos);
  }

  /** Moves time forward by {@code step} and fires every deadline reached, on this thread. */
  synchronized void advance(Duration step) {
    if (step.isNegative()) throw new IllegalArgumentException("step < 0: " + step);
    nanos += step.toNanos();
    fire();
  }
}
