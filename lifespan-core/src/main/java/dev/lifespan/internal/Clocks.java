package dev.lifespan.internal;

/** Reads the clock that the calling thread's scopes run on. */
public final class Clocks {
  private Clocks() {}

  /**
   * The timer of the calling thread's innermost scope; outside any scope, the timer that a scope
   * opened here would get ({@link ThreadFrame#withTimer} in tests, else {@link SystemTimer}).
   */
  public static Timer current() {
    ScopeNode s = ScopeNode.current();
    if (s != null) return s.timer;
    ThreadFrame f = ThreadFrame.currentOrNull();
    return f != null ? f.timer : SystemTimer.INSTANCE;
  }

  /** {@link Timer#nanoTime()} of {@link #current()}: monotonic, only differences mean anything. */
  public static long nanoTime() {
    return current().nanoTime();
  }
}
