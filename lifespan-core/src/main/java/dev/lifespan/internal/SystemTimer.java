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
 *
 * <p>The thread also keeps a coarse clock for the ages of tasks ({@link #coarseNanos()}): while it
 * is read, the thread stores {@code System.nanoTime()} every {@value #TICK_MILLIS} ms, so that
 * spawning a task reads a field instead of making a clock call (which costs as much as the rest of
 * a spawn on some virtual machines). After {@value #IDLE_TICKS} ticks without a read it stops
 * ticking, and the next read takes the time itself and starts it again; a read never waits for the
 * thread's lock (it takes the time itself when the lock is busy).
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

  static final long TICK_MILLIS = 10;
  private static final long TICK = TICK_MILLIS * 1_000_000;
  static final int IDLE_TICKS = 10;

  /** The coarse clock: {@code System.nanoTime()} at the last tick, while {@link #ticking}. */
  private volatile long coarse;

  /** Whether the thread ticks; written under {@link #lock}. */
  private volatile boolean ticking;

  /** Whether the coarse clock was read since the last tick; a hint, written without atomics. */
  private boolean read;

  private int idleTicks; // guarded by lock
  private long nextTick; // guarded by lock

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

  /**
   * {@code System.nanoTime()} as of at most {@value #TICK_MILLIS} ms ago (a little more when the
   * machine is overloaded), never later than now: for the ages of tasks in dumps and reports.
   */
  public long coarseNanos() {
    if (ticking) {
      if (!read) read = true;
      return coarse;
    }
    long now = System.nanoTime();
    if (!lock.tryLock()) return now; // never park a spawning thread: the next spawn starts it
    try {
      coarse = now;
      if (!ticking) {
        ticking = true;
        idleTicks = 0;
        nextTick = now + TICK;
        wake();
      }
      return now;
    } finally {
      lock.unlock();
    }
  }

  /** Under {@link #lock}: starts the thread, or wakes it to compute its wait again. */
  private void wake() {
    if (thread == null) {
      thread = Thread.ofPlatform().daemon().name(THREAD_NAME).unstarted(this::loop);
      thread.start();
    } else if (sleeping) {
      changed.signal();
    }
  }

  /** Under {@link #lock}: stores the time if a tick is due; stops ticking when nobody reads. */
  private void tick(long now) {
    if (!ticking || now - nextTick < 0) return;
    coarse = now;
    nextTick = now + TICK;
    if (read) {
      read = false;
      idleTicks = 0;
    } else if (++idleTicks >= IDLE_TICKS) {
      ticking = false;
    }
  }

  /** A deadline that became the earliest wakes the thread unless it wakes earlier anyway. */
  @Override
  boolean firesLateAdditions() {
    return true;
  }

  @Override
  void earliestChanged(long earliest) {
    // Read in the order the thread writes them backwards: sleeping last before it sleeps.
    if (sleeping && !idle && earliest - wakeAt >= 0) return; // it wakes by then and looks again
    lock.lock();
    try {
      wake();
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
        tick(now);
        long wait = earliestDelay(now);
        if (ticking) wait = Math.min(wait, Math.max(0, nextTick - now));
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
