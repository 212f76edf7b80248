package dev.lifespan.internal;

import dev.lifespan.Started;
import java.util.concurrent.locks.LockSupport;

/**
 * The hand-over between {@code TaskGroup.start} and the task it starts. Until the task reports, its
 * outcome belongs to the caller of {@code start}; afterwards, or once the caller gave up
 * (cancelled), it belongs to the group.
 *
 * <p>States, guarded by this object's monitor: {@code PENDING -> STARTED}, {@code PENDING -> ENDED}
 * (the task ended before reporting; the caller takes its outcome), {@code PENDING -> ABANDONED}
 * (the caller was cancelled).
 */
public final class StartGate<V> implements Started<V>, dev.lifespan.CheckedRunnable {
  static final int PENDING = 0, STARTED = 1, ENDED = 2, ABANDONED = 3;

  private final Thread caller = Thread.currentThread();
  private final String taskName;
  private final dev.lifespan.Startable<V> body;
  private int state;
  private boolean reported;
  private V value;

  StartGate(String taskName, dev.lifespan.Startable<V> body) {
    this.taskName = taskName;
    this.body = body;
  }

  /** The task's body: the started body, reporting through this gate. */
  @Override
  public void run() throws Exception {
    body.run(this);
  }

  @Override
  public void started(V value) {
    synchronized (this) {
      if (reported) {
        throw new IllegalStateException("Task '" + taskName + "' reported started twice");
      }
      reported = true;
      if (state != PENDING) return;
      this.value = value;
      state = STARTED;
    }
    LockSupport.unpark(caller);
  }

  /**
   * Called by the task as it ends; returns true if the caller of start takes the outcome (the task
   * never reported and the caller still waits), false if the group does.
   */
  boolean taskEnded() {
    synchronized (this) {
      if (state != PENDING) return false;
      state = ENDED;
    }
    LockSupport.unpark(caller);
    return true;
  }

  /** Caller side: whether the wait is over. */
  synchronized boolean settled() {
    return state != PENDING;
  }

  /** Caller side, after {@link #settled()}: the reported value, or null if the task ended. */
  synchronized boolean isStarted() {
    return state == STARTED;
  }

  synchronized V value() {
    return value;
  }

  /** Caller side, when cancelled: gives the task to the group if it has not settled. */
  synchronized boolean abandon() {
    if (state != PENDING) return false;
    state = ABANDONED;
    return true;
  }
}
