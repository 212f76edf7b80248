package dev.lifespan.test;

import dev.lifespan.App;
import dev.lifespan.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * A clock whose time moves only when a test calls {@link #advance}: run an application on it
 * ({@link App.Options#withClock}) and its shutdown becomes a timeline, with no real sleeps and no
 * timing tolerance.
 *
 * {@snippet :
 * FakeClock clock = new FakeClock();
 * App app = App.start(App.Options.named("orders").withClock(clock).withGrace(Duration.ofSeconds(30)),
 *     Lifespan.of(confirmations), null);      // a layer with a must-finish task that never ends
 * app.awaitReady();
 * app.signal(App.Signal.TERM);
 * clock.advance(Duration.ofSeconds(29));
 * assertTrue(app.await(Duration.ZERO).isEmpty());     // still waiting for the must-finish task
 * clock.advance(Duration.ofSeconds(1));               // the grace period ends: it is abandoned
 * assertEquals(App.Outcome.WORK_ABANDONED, app.await().outcome());
 * }
 *
 * <h2>What moves with it</h2>
 *
 * Every wait the library makes for the application: deadlines of its cancel scopes, the drain
 * delay, the grace period, kill timeouts, the hard deadline, progress lines, restart backoff, timed
 * joins and {@link App#await(Duration)}. Deadlines are absolute, counted from the moment they were
 * set (a grace period from the first signal), so a test may advance the clock before or after the
 * application reaches a wait: a wait that begins after its deadline ends at once. Real blocking
 * calls in user code ({@link Thread#sleep}, I/O) still take real time.
 *
 * <h2>Threads</h2>
 *
 * {@link #advance} fires each deadline it reaches on the calling thread before it returns; what the
 * deadline then causes (a cancelled task ending, the runner moving to its next phase) happens on
 * the application's threads, so a test waits for those effects with {@link App#await()}, latches or
 * progress lines. Several threads may call {@code advance}; they are serialized.
 *
 * <h2>Waiting for the application to wait</h2>
 *
 * A wait that begins after an {@code advance} is counted from the new time, so a test that advances
 * before the application reached the wait it means to end moves the wrong wait. {@link
 * #awaitDeadline} waits, in real time, until the application has registered a deadline or timed
 * wait at or before a given time, and {@link #awaitPending} until a number of them are pending;
 * then the advance ends exactly that wait, with no sleep and no guess:
 *
 * {@snippet :
 * app.requestShutdown();                                   // at t = 0
 * clock.awaitDeadline(clock.instant().plusSeconds(30), Duration.ofSeconds(10)); // grace waited out
 * clock.advance(Duration.ofSeconds(30));                   // ends the grace period, not a later wait
 * }
 */
public final class FakeClock extends TimeSource {
  private final Instant epoch;
  private volatile long nanos;

  /** A clock at {@code 2026-01-01T00:00:00Z}, nanoTime 0. */
  public FakeClock() {
    this(Instant.parse("2026-01-01T00:00:00Z"));
  }

  /** A clock whose {@link #instant()} starts at {@code epoch}. */
  public FakeClock(Instant epoch) {
    if (epoch == null) throw new NullPointerException("epoch");
    this.epoch = epoch;
  }

  @Override
  public long nanoTime() {
    return nanos;
  }

  @Override
  public Instant instant() {
    return epoch.plusNanos(nanos);
  }

  /** How far the clock has been advanced since it was made. */
  public Duration elapsed() {
    return Duration.ofNanos(nanos);
  }

  /**
   * Moves time forward by {@code step} and fires every deadline reached, on this thread.
   *
   * @throws IllegalArgumentException if {@code step} is negative, or moves the clock more than
   *     about 292 years from its start
   */
  public void advance(Duration step) {
    if (step == null) throw new NullPointerException("step");
    if (step.isNegative()) throw new IllegalArgumentException("step < 0: " + step);
    synchronized (this) {
      long n;
      try {
        n = Math.addExact(nanos, step.toNanos());
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            "step " + step + " moves the clock past 292 years from its start (" + elapsed() + ")");
      }
      nanos = n;
      fire();
    }
  }

  /**
   * Waits, in real time, until a deadline or timed wait at or before {@code time} is pending on
   * this clock: a thread of the application has reached a wait (a scope's deadline, a grace period,
   * a kill timeout, a backoff, a timed join...) that {@code advance}-ing to {@code time} will end.
   * A wait that ended or was cancelled no longer counts. Returns at once if one is pending already;
   * checks every 0.1 to 1 ms of real time.
   *
   * @param time a time on this clock ({@link #instant()} plus how long from now)
   * @param timeout how long to wait, in real time
   * @return the earliest pending deadline, at or before {@code time}
   * @throws AssertionError if there is still none after {@code timeout}; the message names {@code
   *     time} (as an offset from now), how many deadlines are pending and the earliest
   * @throws InterruptedException if the calling thread is interrupted while it waits
   */
  public Instant awaitDeadline(Instant time, Duration timeout) throws InterruptedException {
    return awaitDeadlineOrStop(time, timeout, null).orElseThrow();
  }

  /**
   * {@link #awaitDeadline(Instant, Duration)}, or until {@code stop} returns true, whichever comes
   * first: for a wait the application may never begin because it ends instead ({@code () ->
   * app.state() == App.State.STOPPED}). {@code stop} is called on this thread, between checks.
   *
   * @return the earliest pending deadline, at or before {@code time}; empty if {@code stop} came
   *     first
   * @throws AssertionError if neither happened within {@code timeout} of real time
   * @throws InterruptedException if the calling thread is interrupted while it waits
   */
  public Optional<Instant> awaitDeadline(Instant time, Duration timeout, BooleanSupplier stop)
      throws InterruptedException {
    Objects.requireNonNull(stop, "stop");
    return awaitDeadlineOrStop(time, timeout, stop);
  }

  /** The two {@code awaitDeadline}s; {@code stop} null: none. */
  private Optional<Instant> awaitDeadlineOrStop(
      Instant time, Duration timeout, BooleanSupplier stop) throws InterruptedException {
    Objects.requireNonNull(time, "time");
    requirePositive(timeout);
    long end = System.nanoTime() + timeout.toNanos();
    for (long pause = 100_000; ; pause = Math.min(1_000_000, pause * 2)) {
      Optional<Instant> next = nextDeadline();
      if (next.isPresent() && !next.get().isAfter(time)) return next;
      if (stop != null && stop.getAsBoolean()) return Optional.empty();
      if (System.nanoTime() - end >= 0) {
        throw new AssertionError(
            "FakeClock: no deadline or timed wait at or before "
                + offset(time)
                + " was registered"
                + (stop != null ? ", and the stop condition did not hold," : "")
                + " within "
                + timeout
                + " of real time; "
                + pending(next));
      }
      park(pause);
    }
  }

  /** {@link #awaitDeadline(Instant, Duration)} at {@code within} from now. */
  public Instant awaitDeadlineWithin(Duration within, Duration timeout)
      throws InterruptedException {
    Objects.requireNonNull(within, "within");
    return awaitDeadline(instant().plus(within), timeout);
  }

  /**
   * Waits, in real time, until at least {@code count} deadlines and timed waits are pending on this
   * clock ({@link #pendingDeadlines()}): for a test that knows how many waits the application is
   * about to begin, whatever their times. Checks every 0.1 to 1 ms of real time.
   *
   * @throws IllegalArgumentException if {@code count} is negative
   * @throws AssertionError if fewer are pending after {@code timeout} of real time; the message
   *     says how many and the earliest
   * @throws InterruptedException if the calling thread is interrupted while it waits
   */
  public void awaitPending(int count, Duration timeout) throws InterruptedException {
    if (count < 0) throw new IllegalArgumentException("count < 0: " + count);
    requirePositive(timeout);
    long end = System.nanoTime() + timeout.toNanos();
    for (long pause = 100_000; pendingDeadlines() < count; pause = Math.min(1_000_000, pause * 2)) {
      if (System.nanoTime() - end >= 0) {
        throw new AssertionError(
            "FakeClock: "
                + count
                + " deadlines or timed waits expected within "
                + timeout
                + " of real time; "
                + pending(nextDeadline()));
      }
      park(pause);
    }
  }

  private static void requirePositive(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout <= 0: " + timeout);
    }
  }

  private static void park(long nanos) throws InterruptedException {
    LockSupport.parkNanos(nanos);
    if (Thread.interrupted()) throw new InterruptedException();
  }

  private String offset(Instant time) {
    Duration d = Duration.between(instant(), time);
    return (d.isNegative() ? "now - " + d.negated() : "now + " + d) + " (" + time + ")";
  }

  private String pending(Optional<Instant> next) {
    int n = pendingDeadlines();
    return n
        + " pending"
        + next.map(t -> ", the earliest at " + offset(t)).orElse("")
        + "; clock "
        + elapsed()
        + " since its start";
  }

  @Override
  public String toString() {
    return "FakeClock[" + elapsed() + " since " + epoch + "]";
  }
}
