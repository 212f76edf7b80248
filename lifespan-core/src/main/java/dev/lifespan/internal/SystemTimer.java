package dev.lifespan.internal;

import java.time.Instant;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The process-wide timer on {@link System#nanoTime()}: one daemon platform thread, {@value
 * #THREAD_NAME}, started on first use, that sleeps until the earliest deadline.
 *
 * <p>Registering a deadline later than the one the thread already sleeps until reads two volatile
 * fields and takes no lock beyond its shard's, so a scope whose timeout does not fire costs two
 * uncontended lock acquisitions on a shard of its own thread and two heap operations. The thread
 * does not wake when a deadline is removed: it wakes at the deadline it slept for, finds it gone,
 * and sleeps until the next.
 */
public final class SystemTimer extends Timer {
  /** Name of the timer thread; leak checks recognise it as the library's one permanent thread. */
  public static final String THREAD_NAME = "lifespan-timer";

  public static final SystemTimer INSTANCE = new SystemTimer();

  /** Guards the thread's decision to sleep; never taken while a shard's lock is held. */
  private final ReentrantLock lock = new ReentrantLock();

  private final Condition changed = lock.newCondition();

  /** Deadline the timer thread sleeps until, if {@link #sleeping} and not {@link #idle}. */
  private volatile long wakeAt;

  /** Whether the timer thread waits on {@link #changed}; written under {@link #lock}. */
  private volatile boolean sleeping;

  /** Whether the timer thread waits with no deadline at all; written under {@link #lock}. */
  private volatile boolean idle;

  private Thread thread; // guarded by lock

  private SystemTimer() {
    super(
        Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors()) * 4 - 1)
            << 1);
  }

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
    // Read in the order the thread writes them backwards: sleeping last before it sleeps.
    if (sleeping && !idle && earliest - wakeAt >= 0) return; // it wakes by then and looks again
    lock.lock();
    try {
      if (thread == null) {
        thread = Thread.ofPlatform().daemon().name(THREAD_NAME).unstarted(this::loop);
        thread.start();
      } else if (sleeping) {
        changed.signal();
      }
      // Otherwise the thread is awake and computes its wait under the lock before sleeping; the
      // shard was changed before this, so it sees the new deadline.
    } finally {
      lock.unlock();
    }
  }

  private void loop() {
    while (true) {
      fireExpired(System.nanoTime());
      lock.lock();
      try {
        long now = System.nanoTime();
        long wait = earliestDelay(now);
        if (wait > 0) {
          idle = wait == Long.MAX_VALUE;
          wakeAt = now + wait;
          sleeping = true;
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
