package dev.lifespan.internal;

import dev.lifespan.TimeSource;
import java.time.Instant;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/** Reads the clock that the calling thread's scopes run on, and connects the public clock to it. */
public final class Clocks {
  private Clocks() {}

  private static volatile Function<TimeSource, Timer> timerOf;

  /** Called once by {@link TimeSource}'s initializer: how to reach a clock's timer. */
  public static void install(Function<TimeSource, Timer> access) {
    timerOf = access;
  }

  /** The timer behind {@code source}. */
  public static Timer timerOf(TimeSource source) {
    if (timerOf == null) TimeSource.system(); // initializes TimeSource, which installs the access
    return timerOf.apply(source);
  }

  /** The timer of the system clock. */
  public static Timer systemTimer() {
    return SystemTimer.INSTANCE;
  }

  /** A timer on a subclass's time, whose deadlines fire when {@link #fire} is called. */
  public static Timer manualTimer(LongSupplier nanoTime, Supplier<Instant> now) {
    return new Timer() {
      @Override
      public long nanoTime() {
        return nanoTime.getAsLong();
      }

      @Override
      public Instant now() {
        return now.get();
      }

      @Override
      void earliestChanged(long earliest) {}
    };
  }

  /** Fires every deadline of {@code timer} that its time has reached. */
  public static void fire(Timer timer) {
    timer.fireExpired(timer.nanoTime());
  }

  /**
   * The timer of the calling thread's innermost scope; outside any scope, the timer that a scope
   * opened here would get ({@link ThreadFrame#withTimer} in tests, else {@link SystemTimer}).
   */
  public static Timer current() {
    ScopeNode s = Scopes.current();
    if (s != null) return s.timer;
    ThreadFrame f = ThreadFrame.currentOrNull();
    return f != null ? f.timer() : SystemTimer.INSTANCE;
  }
}
