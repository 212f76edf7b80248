package dev.lifespan;

import dev.lifespan.internal.Clocks;
import dev.lifespan.internal.Timer;
import java.time.Instant;
import java.util.Optional;

/**
 * The clock an application runs on: every wait the library makes for it reads this one source —
 * deadlines of cancel scopes, grace periods, kill timeouts, the drain delay, the hard deadline,
 * progress lines, restart backoff, timed joins and {@link App#await(java.time.Duration)}.
 *
 * <p>Applications run on {@link #system()} unless {@link App.Options#withClock} says otherwise.
 * Tests substitute a fake whose time moves only when the test says so (the {@code lifespan-test}
 * module ships one, {@code dev.lifespan.test.FakeClock}), so that a shutdown is tested as a
 * timeline — advance 29 s: still waiting; advance 1 s: the must-finish task is abandoned — never
 * with real sleeps. Every scope, task group, supervisor and task of the application inherits the
 * clock from the scope it is opened in.
 *
 * <h2>Writing a clock</h2>
 *
 * A subclass returns a monotonic {@link #nanoTime()} (only differences are meaningful) and a
 * wall-clock {@link #instant()} that moves with it, and calls {@link #fire()} after every change of
 * time: deadlines that have been reached fire on the calling thread before {@code fire()} returns
 * (their effects — cancellation, waking a waiting thread — then happen on those threads). A
 * subclass's methods may be called from any thread and must not block.
 *
 * <h2>Memory consistency effects</h2>
 *
 * Actions of a thread before it calls {@link #fire()} <i>happen-before</i> the actions of the
 * deadlines fired by that call.
 */
public abstract class TimeSource {
  static {
    Clocks.install(s -> s.timer);
  }

  private final Timer timer;

  /** For subclasses: a clock whose deadlines fire when the subclass calls {@link #fire()}. */
  protected TimeSource() {
    this.timer = Clocks.manualTimer(this::nanoTime, this::instant);
  }

  private TimeSource(Timer timer) {
    this.timer = timer;
  }

  /** The clock of the operating system: {@link System#nanoTime()} and {@link Instant#now()}. */
  public static TimeSource system() {
    return SystemSource.INSTANCE;
  }

  /** Monotonic time in nanoseconds; only differences between two readings mean anything. */
  public abstract long nanoTime();

  /** Wall-clock time, consistent with {@link #nanoTime()}; converts {@link Instant} deadlines. */
  public abstract Instant instant();

  /**
   * Fires every deadline that {@link #nanoTime()} has reached; a subclass calls it after moving
   * time. Returns once each has fired. The system clock fires its own deadlines.
   *
   * @throws UnsupportedOperationException on {@link #system()}
   */
  protected final void fire() {
    if (this == SystemSource.INSTANCE) {
      throw new UnsupportedOperationException("The system clock fires its own deadlines");
    }
    Clocks.fire(timer);
  }

  /** How many deadlines and timed waits are pending on this clock now; for tests. */
  public final int pendingDeadlines() {
    return timer.pending();
  }

  /**
   * When the earliest deadline or timed wait pending on this clock falls, as an {@link #instant()};
   * empty if none is pending. For tests, which move a fake clock once the application waits for it.
   */
  public final Optional<Instant> nextDeadline() {
    var at = timer.earliest();
    return at.isEmpty()
        ? Optional.empty()
        : Optional.of(instant().plusNanos(at.getAsLong() - nanoTime()));
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + instant() + "]";
  }

  private static final class SystemSource extends TimeSource {
    static final SystemSource INSTANCE = new SystemSource();

    SystemSource() {
      super(Clocks.systemTimer());
    }

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public Instant instant() {
      return Instant.now();
    }

    @Override
    public String toString() {
      return "TimeSource.system()";
    }
  }
}
