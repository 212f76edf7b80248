package dev.lifespan.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.LockSupport;

/**
 * The clock and the deadline queue that every {@link ScopeNode} with a deadline is registered in.
 *
 * <p>Deadlines are absolute {@link #nanoTime()} values, compared by subtraction. The queue is split
 * into {@link DeadlineHeap shards}, each a binary heap under its own lock; an entry goes to the
 * shard of the thread that first schedules it and stays there, so threads entering and leaving
 * scopes with deadlines at once take different locks (the system timer has four shards per
 * processor; a test's timer one). Subclasses decide how time passes: {@link SystemTimer} has one
 * daemon thread that sleeps until the earliest deadline; {@link FakeTimer} fires deadlines when a
 * test advances it.
 *
 * <p>Expired scopes are cancelled after every lock is released; cancelling calls no user code.
 */
public abstract class Timer {
  private static final VarHandle SHARD;

  static {
    try {
      SHARD = MethodHandles.lookup().findVarHandle(Entry.class, "shard", DeadlineHeap.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final DeadlineHeap[] shards;
  private final int mask;

  /** A timer with one shard. */
  Timer() {
    this(1);
  }

  /** A timer with {@code shards} shards, a power of two. */
  Timer(int shards) {
    if (Integer.bitCount(shards) != 1) throw new IllegalArgumentException("shards: " + shards);
    this.shards = new DeadlineHeap[shards];
    for (int i = 0; i < shards; i++) this.shards[i] = new DeadlineHeap();
    this.mask = shards - 1;
  }

  /**
   * Something waiting for a deadline on this timer: a {@link ScopeNode} with a deadline, or an
   * {@link Alarm} that wakes a thread. The fields are guarded by the lock of its {@link #shard},
   * except {@link #armed} and the shard itself, which is set once.
   */
  abstract static class Entry {
    boolean hasDeadline;
    long deadlineNanos;
    int heapIndex = -1;

    /** True while in the timer's heap or being added to it; see {@link Timer#schedule}. */
    volatile boolean armed;

    /** The shard this entry is scheduled in; null until its first deadline. */
    volatile DeadlineHeap shard;

    /** Whether the deadline is still watched (a scope: while open). */
    abstract boolean live();

    /** Called by the timer, without locks, once the deadline has passed. */
    abstract void expired();
  }

  /**
   * Whether a deadline added when it has already passed is fired by the timer itself, soon: true if
   * {@link #earliestChanged} makes sure of it. Otherwise the scheduler checks the time again after
   * adding it.
   */
  boolean firesLateAdditions() {
    return false;
  }

  /**
   * Gives {@code e}, which no other thread can see yet, the calling thread's shard, without an
   * atomic operation; see {@link #shardOf}.
   */
  final void claimShard(Entry e) {
    if (e.shard == null) SHARD.set(e, pick());
  }

  private DeadlineHeap pick() {
    long id = Thread.currentThread().threadId();
    return shards[(int) id & mask];
  }

  /** The shard of {@code e}, chosen on first use by the calling thread. */
  private DeadlineHeap shardOf(Entry e) {
    DeadlineHeap h = e.shard;
    if (h != null) return h;
    h = pick();
    return SHARD.compareAndSet(e, null, h) ? h : e.shard;
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
   * Called, without locks, when a shard's earliest deadline became {@code earliest}; the driver
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
    return toNanos(instant, nanoTime());
  }

  /** {@link #toNanos(Instant)} with the timer's time already read as {@code now}. */
  final long toNanos(Instant instant, long now) {
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
    DeadlineHeap h = shardOf(node);
    boolean earliest = false;
    synchronized (h) {
      if (!hasDeadline) {
        node.hasDeadline = false;
        h.remove(node);
        return;
      }
      node.hasDeadline = true;
      node.deadlineNanos = deadlineNanos;
      if (!node.live()) return; // remembered for entry
      node.armed = true;
      earliest = h.put(node);
      if (!node.live()) {
        node.armed = false;
        h.remove(node);
        earliest = false;
      }
    }
    if (earliest) earliestChanged(deadlineNanos);
  }

  /** Stops watching {@code node}'s deadline; it is being left. */
  final void disarm(Entry node) {
    DeadlineHeap h = node.shard;
    if (h == null) return;
    synchronized (h) {
      node.armed = false;
      h.remove(node);
    }
  }

  /** The deadline of {@code node}, set or remembered for entry; empty if it has none. */
  final java.util.OptionalLong deadlineOf(Entry node) {
    DeadlineHeap h = node.shard;
    if (h == null) return java.util.OptionalLong.empty();
    synchronized (h) {
      return node.hasDeadline
          ? java.util.OptionalLong.of(node.deadlineNanos)
          : java.util.OptionalLong.empty();
    }
  }

  /**
   * Removes every node whose deadline is at or before {@code now} and cancels it; returns the
   * earliest remaining deadline relative to {@code now}, or {@code Long.MAX_VALUE} if none.
   */
  final long fireExpired(long now) {
    Entry[] expired = null;
    int[] n = {0};
    for (DeadlineHeap h : shards) {
      synchronized (h) {
        expired = h.takeExpired(now, expired, n);
      }
    }
    for (int i = 0; i < n[0]; i++) expired[i].expired();
    return earliestDelay(now);
  }

  /**
   * Nanoseconds from {@code now} to the earliest armed deadline (at least 0), or {@code
   * Long.MAX_VALUE} if there is none. Takes each shard's lock in turn.
   */
  final long earliestDelay(long now) {
    var e = earliest();
    return e.isEmpty() ? Long.MAX_VALUE : Math.max(0, e.getAsLong() - now);
  }

  /**
   * The earliest armed deadline, on the {@link #nanoTime()} scale; empty if there is none. For
   * tests and diagnostics.
   */
  public final java.util.OptionalLong earliest() {
    boolean any = false;
    long best = 0;
    for (DeadlineHeap h : shards) {
      synchronized (h) {
        if (!h.isEmpty() && (!any || h.earliest() - best < 0)) {
          best = h.earliest();
          any = true;
        }
      }
    }
    return any ? java.util.OptionalLong.of(best) : java.util.OptionalLong.empty();
  }

  /** Number of armed deadlines; for tests and diagnostics. */
  public final int pending() {
    int n = 0;
    for (DeadlineHeap h : shards) {
      synchronized (h) {
        n += h.size();
      }
    }
    return n;
  }
}
