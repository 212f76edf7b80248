package dev.lifespan.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The clock and the deadline queue that every {@link ScopeNode} with a deadline is registered in.
 *
 * <p>Deadlines are absolute {@link #nanoTime()} values, compared by subtraction. The queue is a
 * binary heap of {@link Entry entries} (scopes with a deadline, and {@link Alarm alarms} of timed
 * waits) indexed by {@link Entry#heapIndex}, so that adding, moving and removing a deadline are
 * O(log n) and allocate nothing. Subclasses decide how time passes: {@link SystemTimer} has one
 * daemon thread that sleeps until the earliest deadline; {@link FakeTimer} fires deadlines when a
 * test advances it.
 *
 * <p>Expired scopes are cancelled after the lock is released; cancelling calls no user code.
 */
public abstract class Timer {
  /** Guards {@link #heap}, {@link #size} and every registered node's deadline and heap index. */
  final ReentrantLock lock = new ReentrantLock();

  private Entry[] heap = new Entry[16];
  private int size;

  /**
   * Something waiting for a deadline on this timer: a {@link ScopeNode} with a deadline, or an
   * {@link Alarm} that wakes a thread. The fields are guarded by the timer's {@link #lock}, except
   * {@link #armed}.
   */
  abstract static class Entry {
    boolean hasDeadline;
    long deadlineNanos;
    int heapIndex = -1;

    /** True while in the timer's heap or being added to it; see {@link Timer#schedule}. */
    volatile boolean armed;

    /** Whether the deadline is still watched (a scope: while open). */
    abstract boolean live();

    /** Called by the timer, without locks, once the deadline has passed. */
    abstract void expired();
  }

  /**
   * A deadline that wakes one thread: every wait of the library that has a time limit (grace
   * periods, kill timeouts, drain delays, progress lines, timed joins) parks until its condition
   * holds or its alarm {@linkplain #fired() fired}, so that a fake timer moves all of them.
   */
  public static final class Alarm extends Entry {
    private final Thread waiter;
    private volatile boolean fired;
    private volatile boolean done;

    Alarm(Thread waiter) {
      this.waiter = waiter;
    }

    /** Whether the deadline has passed. */
    public boolean fired() {
      return fired;
    }

    @Override
    boolean live() {
      return !done;
    }

    @Override
    void expired() {
      fired = true;
      LockSupport.unpark(waiter);
    }
  }

  /**
   * An alarm that unparks the calling thread at {@code deadlineNanos}, at once if that has passed;
   * {@link #cancel(Alarm)} it when the wait ends.
   */
  public final Alarm alarm(long deadlineNanos) {
    Alarm a = new Alarm(Thread.currentThread());
    schedule(a, true, deadlineNanos);
    if (deadlineNanos - nanoTime() <= 0) a.expired();
    return a;
  }

  /** Stops watching {@code a}; idempotent. */
  public final void cancel(Alarm a) {
    a.done = true;
    if (a.armed) disarm(a);
  }

  /** Monotonic time in nanoseconds; only differences are meaningful. */
  public abstract long nanoTime();

  /** Wall-clock time, used only to convert {@link Instant} deadlines to and from nanoTime. */
  public abstract Instant now();

  /**
   * Called with {@link #lock} held when the earliest deadline became {@code earliest}; the driver
   * must make sure it fires by then.
   */
  abstract void earliestChanged(long earliest);

  /**
   * The farthest a deadline is kept from now, either way: 2^62 ns, about 146 years. Deadlines are
   * compared by subtraction, which is exact while any two differ by less than 2^63; clamping every
   * deadline to {@code now ± MAX_OFFSET} keeps it so for any {@link Instant} or {@link Duration},
   * {@code Instant.MIN} and {@code Instant.MAX} included (regression: a year-1700 deadline once
   * overflowed {@code deadline - now} and never fired).
   */
  static final long MAX_OFFSET = 1L << 62;

  /** Converts a wall-clock instant to this timer's nanoTime scale, clamped to now ± 146 years. */
  final long toNanos(Instant instant) {
    long now = nanoTime();
    Instant wall = now();
    long offset;
    if (instant.isBefore(wall.minusNanos(MAX_OFFSET))) offset = -MAX_OFFSET;
    else if (instant.isAfter(wall.plusNanos(MAX_OFFSET))) offset = MAX_OFFSET;
    else offset = Duration.between(wall, instant).toNanos();
    return now + offset;
  }

  /** The nanoTime deadline {@code timeout} from now, clamped to now + 146 years. */
  final long after(Duration timeout) {
    return nanoTime() + clampOffset(timeout);
  }

  /** {@code d} in nanoseconds, clamped to ±{@link #MAX_OFFSET}. */
  static long clampOffset(Duration d) {
    long n = saturatedNanos(d);
    return Math.max(-MAX_OFFSET, Math.min(MAX_OFFSET, n));
  }

  /** Converts a nanoTime deadline to a wall-clock instant. */
  final Instant toInstant(long deadlineNanos) {
    return now().plusNanos(deadlineNanos - nanoTime());
  }

  static long saturatedNanos(Duration d) {
    if (d.getSeconds() >= Long.MAX_VALUE / 1_000_000_000L - 1) return Long.MAX_VALUE;
    if (d.getSeconds() <= Long.MIN_VALUE / 1_000_000_000L + 1) return Long.MIN_VALUE;
    return d.toNanos();
  }

  /**
   * Sets, moves or (with {@code hasDeadline == false}) removes the deadline of {@code node}. The
   * deadline is watched only while the node is {@linkplain Entry#live() live}; {@link
   * ScopeNode#exit} sets the state before it reads {@link Entry#armed}, and this method sets {@code
   * armed} before it reads the state, so a scope that closes concurrently never stays in the heap.
   */
  final void schedule(Entry node, boolean hasDeadline, long deadlineNanos) {
    lock.lock();
    try {
      if (!hasDeadline) {
        node.hasDeadline = false;
        if (node.heapIndex >= 0) removeAt(node.heapIndex);
        return;
      }
      node.hasDeadline = true;
      node.deadlineNanos = deadlineNanos;
      if (!node.live()) return; // remembered for entry
      node.armed = true;
      if (node.heapIndex < 0) {
        if (size == heap.length) heap = Arrays.copyOf(heap, size * 2);
        node.heapIndex = size;
        heap[size++] = node;
        siftUp(node.heapIndex);
      } else {
        siftUp(node.heapIndex);
        siftDown(node.heapIndex);
      }
      if (!node.live()) {
        node.armed = false;
        removeAt(node.heapIndex);
      } else if (heap[0] == node) {
        earliestChanged(deadlineNanos);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Stops watching {@code node}'s deadline; it is being left. */
  final void disarm(Entry node) {
    lock.lock();
    try {
      node.armed = false;
      if (node.heapIndex >= 0) removeAt(node.heapIndex);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Removes every node whose deadline is at or before {@code now} and cancels it; returns the
   * earliest remaining deadline relative to {@code now}, or {@code Long.MAX_VALUE} if none.
   */
  final long fireExpired(long now) {
    Entry[] expired = null;
    int n = 0;
    long next;
    lock.lock();
    try {
      while (size > 0 && heap[0].deadlineNanos - now <= 0) {
        if (expired == null) expired = new Entry[Math.min(size, 64)];
        if (n == expired.length) expired = Arrays.copyOf(expired, n * 2);
        expired[n++] = heap[0];
        removeAt(0);
      }
      next = earliestDelay(now);
    } finally {
      lock.unlock();
    }
    for (int i = 0; i < n; i++) expired[i].expired();
    return next;
  }

  /**
   * Nanoseconds from {@code now} to the earliest armed deadline (at least 0), or {@code
   * Long.MAX_VALUE} if there is none. Call with {@link #lock} held.
   */
  final long earliestDelay(long now) {
    return size == 0 ? Long.MAX_VALUE : Math.max(0, heap[0].deadlineNanos - now);
  }

  /**
   * The earliest armed deadline, on the {@link #nanoTime()} scale; empty if there is none. For
   * tests and diagnostics.
   */
  public final java.util.OptionalLong earliest() {
    lock.lock();
    try {
      return size == 0
          ? java.util.OptionalLong.empty()
          : java.util.OptionalLong.of(heap[0].deadlineNanos);
    } finally {
      lock.unlock();
    }
  }

  /** Number of armed deadlines; for tests and diagnostics. */
  public final int pending() {
    lock.lock();
    try {
      return size;
    } finally {
      lock.unlock();
    }
  }

  private void removeAt(int i) {
    Entry removed = heap[i];
    removed.heapIndex = -1;
    int last = --size;
    if (i != last) {
      Entry moved = heap[last];
      heap[i] = moved;
      moved.heapIndex = i;
      heap[last] = null;
      siftUp(i);
      siftDown(moved.heapIndex);
    } else {
      heap[last] = null;
    }
  }

  private void siftUp(int i) {
    Entry node = heap[i];
    while (i > 0) {
      int p = (i - 1) >>> 1;
      Entry parent = heap[p];
      if (node.deadlineNanos - parent.deadlineNanos >= 0) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = node;
    node.heapIndex = i;
  }

  private void siftDown(int i) {
    Entry node = heap[i];
    int half = size >>> 1;
    while (i < half) {
      int c = 2 * i + 1;
      Entry child = heap[c];
      int r = c + 1;
      if (r < size && heap[r].deadlineNanos - child.deadlineNanos < 0) child = heap[c = r];
      if (node.deadlineNanos - child.deadlineNanos <= 0) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = node;
    node.heapIndex = i;
  }
}
