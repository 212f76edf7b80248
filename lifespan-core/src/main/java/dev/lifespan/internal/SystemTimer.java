package dev.lifespan.internal;

import java.time.Instant;
import java.util.concurrent.locks.Condition;

/**
 * The process-wide timer on {@link System#nanoTime()}: one daemon platform thread, {@value
 * #THREAD_NAME}, started on first use, that sleeps until the earliest deadline.
 *
 * <p>Registering a deadline later than the one the thread already waits for does not wake it, so a
 * scope whose timeout does not fire costs two uncontended lock acquisitions and two heap
 * operations.
 */
public final class SystemTimer extends Timer {
  /** Name of the timer thread; leak checks recognise it as the library's one permanent thread. */
  public static final String THREAD_NAME = "lifespan-timer";

  public static final SystemTimer INSTANCE = new SystemTimer();

  private final Condition changed = lock.newCondition();

  /** Deadline the timer thread sleeps until, if {@link #sleeping} and not {@link #idle}. */
  private long wakeAt;

  /** Whether the timer thread waits on {@link #changed}; guarded by {@link #lock}. */
  private boolean sleeping;

  /** Whether the timer thread waits with no deadline at all; guarded by {@link #lock}. */
  private boolean idle;

  private Thread thread;

  private SystemTimer() {}

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public Instant now() {
    return Instant.now();
  }

  @Override
  void earliestChanged(long earliest) {
    if (thread == null) {
      thread = Thread.ofPlatform().daemon().name(THREAD_NAME).unstarted(this::loop);
      thread.start();
    } else if (sleeping && (idle || earliest - wakeAt < 0)) {
      changed.signal();
    }
    // Otherwise the thread is awake and recomputes its wait under the lock before sleeping.
  }

  private void loop() {
    while (true) {
      fireExpired(System.nanoTime());
      lock.lock();
      try {
        long now = System.nanoTime();
        long wait = earliestDelay(now);
        if (wait > 0) {
          sleeping = true;
          idle = wait == Long.MAX_VALUE;
          wakeAt = now + wait;
          if (idle) changed.await();
          else changed.awaitNanos(wait);
        }
      } catch (InterruptedException e) {
        // Nobody interrupts this thread on purpose; it keeps serving deadlines.
      } finally {
        sleeping = false;
        lock.unlock();
      }
    }
  }
}
