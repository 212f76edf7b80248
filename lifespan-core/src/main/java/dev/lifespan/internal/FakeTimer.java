package dev.lifespan.internal;

import java.time.Duration;
import java.time.Instant;

/**
 * A timer whose time moves only when a test calls {@link #advance(Duration)}; expired deadlines
 * fire on the advancing thread, before {@code advance} returns. Scopes use it when they are opened
 * inside {@link ThreadFrame#withTimer}, and tasks inherit it from the scope of their group.
 */
public final class FakeTimer extends Timer {
  private final Instant epoch;
  private volatile long nanos;

  public FakeTimer() {
    this(Instant.parse("2026-01-01T00:00:00Z"));
  }

  public FakeTimer(Instant epoch) {
    this.epoch = epoch;
  }

  @Override
  public long nanoTime() {
    return nanos;
  }

  @Override
  public Instant now() {
    return epoch.plusNanos(nanos);
  }

  @Override
  void earliestChanged(long earliest) {}

  /** Moves time forward by {@code step} and fires every deadline reached; returns the new time. */
  public long advance(Duration step) {
    if (step.isNegative()) throw new IllegalArgumentException("step < 0: " + step);
    long now;
    synchronized (this) {
      now = nanos += step.toNanos();
    }
    fireExpired(now);
    return now;
  }
}
