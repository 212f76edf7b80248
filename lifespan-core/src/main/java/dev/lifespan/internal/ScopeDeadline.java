package dev.lifespan.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The deadline of a scope: given before entry (relative to entry, or absolute), set, moved or
 * cleared while it is open from any thread, armed in its {@link Timer} only while it is open.
 * {@link ScopeNode} is the one kind; this part of it knows only the timer and the scope's state.
 */
abstract sealed class ScopeDeadline extends Timer.Entry permits ScopeNode {
  static final int NEW = 0, OPEN = 1, CLOSED = 2;

  final Timer timer;

  /** {@code NEW -> OPEN -> CLOSED}; only the owner thread enters and exits. */
  volatile int state;

  /** Timeout relative to entry, given before entry; negative if none. Owner thread only. */
  private long timeoutAtEntry = -1;

  /** Whether an absolute deadline was given before entry. Owner thread only. */
  private boolean deadlineAtEntry;

  ScopeDeadline(Timer timer) {
    this.timer = timer;
  }

  final boolean isOpen() {
    return state == OPEN;
  }

  final boolean isClosed() {
    return state == CLOSED;
  }

  /** Called without locks once the deadline has passed while the scope is open. */
  abstract void deadlinePassed();

  /** The scope's kind and name, for messages: {@code CancelScope 'x'}. */
  abstract String describe();

  // ---- CancelScope

  public Optional<Instant> deadline() {
    var d = timer.deadlineOf(this);
    return d.isPresent() ? Optional.of(timer.toInstant(d.getAsLong())) : Optional.empty();
  }

  public void setDeadline(Instant deadline) {
    Objects.requireNonNull(deadline, "deadline");
    requireNotClosed("setDeadline");
    long now = timer.nanoTime();
    moveDeadline(true, timer.toNanos(deadline, now), now);
  }

  public void setTimeout(Duration timeout) {
    checkTimeout(timeout);
    requireNotClosed("setTimeout");
    long now = timer.nanoTime();
    moveDeadline(true, now + Timer.clampOffset(timeout), now);
  }

  public void clearDeadline() {
    requireNotClosed("clearDeadline");
    moveDeadline(false, 0, 0);
  }

  // ---- configuration before entry, by the opener

  public final void setTimeoutBeforeEntry(Duration timeout) {
    checkTimeout(timeout);
    timeoutAtEntry = Timer.clampOffset(timeout);
    timer.claimShard(this); // before entry no other thread sees the scope: no atomic needed
  }

  public final void setDeadlineBeforeEntry(Instant deadline) {
    timer.schedule(this, true, timer.toNanos(deadline));
    deadlineAtEntry = true;
  }

  /** On entry, by the owner thread: arms the deadline given before entry, if any. */
  final void armAtEntry() {
    if (timeoutAtEntry >= 0) {
      long now = timer.nanoTime();
      moveDeadline(true, now + timeoutAtEntry, now);
    } else if (deadlineAtEntry) {
      var d = timer.deadlineOf(this);
      if (d.isPresent()) moveDeadline(true, d.getAsLong(), timer.nanoTime());
    }
  }

  // ---- checks

  final void checkTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout < 0: " + timeout + " (" + describe() + ")");
    }
  }

  private void requireNotClosed(String what) {
    if (isClosed()) throw new IllegalStateException(describe() + " is closed; cannot " + what);
  }

  // ---- the timer

  /**
   * Schedules the deadline, then cancels the scope at once if it has passed: by {@code now}, when
   * the timer fires a deadline added in the past by itself ({@link Timer#firesLateAdditions()}),
   * else by the timer's time after scheduling, so that a test clock moved meanwhile is not missed.
   */
  private void moveDeadline(boolean has, long nanos, long now) {
    timer.schedule(this, has, nanos);
    if (has && isOpen() && nanos - (timer.firesLateAdditions() ? now : timer.nanoTime()) <= 0) {
      deadlinePassed();
    }
  }

  @Override
  final boolean live() {
    return isOpen();
  }

  @Override
  final void expired() {
    deadlinePassed();
  }
}
