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
    moveDeadline(true, timer.toNanos(deadline));
  }

  public void setTimeout(Duration timeout) {
    checkTimeout(timeout);
    requireNotClosed("setTimeout");
    moveDeadline(true, timer.after(timeout));
  }

  public void clearDeadline() {
    requireNotClosed("clearDeadline");
    moveDeadline(false, 0);
  }

  // ---- configuration before entry, by the opener

  public final void setTimeoutBeforeEntry(Duration timeout) {
    checkTimeout(timeout);
    timeoutAtEntry = Timer.clampOffset(timeout);
  }

  public final void setDeadlineBeforeEntry(Instant deadline) {
    timer.schedule(this, true, timer.toNanos(deadline));
    deadlineAtEntry = true;
  }

  /** On entry, by the owner thread: arms the deadline given before entry, if any. */
  final void armAtEntry() {
    if (timeoutAtEntry >= 0) {
      moveDeadline(true, timer.nanoTime() + timeoutAtEntry);
    } else if (deadlineAtEntry) {
      var d = timer.deadlineOf(this);
      if (d.isPresent()) moveDeadline(true, d.getAsLong());
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

  private void moveDeadline(boolean has, long nanos) {
    timer.schedule(this, has, nanos);
    if (has && isOpen() && nanos - timer.nanoTime() <= 0) deadlinePassed();
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
