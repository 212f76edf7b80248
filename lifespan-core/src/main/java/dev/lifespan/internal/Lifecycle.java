package dev.lifespan.internal;

import dev.lifespan.App;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The application runner's published lifecycle: one {@link ShutdownState} replaced whole under a
 * lock and read without one, the result once there is one, and the threads waiting for either.
 * Every replacement wakes every waiter; waits with a time limit park on an alarm of the
 * application's timer, so a fake clock ends them. No user code runs under the lock.
 */
final class Lifecycle {
  private final Timer timer;
  private final Object writeLock = new Object();
  private final ConcurrentLinkedQueue<Thread> waiters = new ConcurrentLinkedQueue<>();
  private volatile ShutdownState state;
  private volatile App.Result result; // set once, with the state STOPPED
  private volatile boolean readyReached;

  Lifecycle(Timer timer, ShutdownState initial) {
    this.timer = timer;
    this.state = initial;
  }

  ShutdownState get() {
    return state;
  }

  App.Result result() {
    return result;
  }

  boolean readyReached() {
    return readyReached;
  }

  /** Replaces the state with {@code change(state)}; returns the new state. */
  ShutdownState update(UnaryOperator<ShutdownState> change) {
    return updateIf(s -> true, change);
  }

  /**
   * Replaces the state with {@code change(state)} if {@code when(state)} holds and there is no
   * result yet, atomically; returns the new state, or null if nothing changed.
   */
  ShutdownState updateIf(Predicate<ShutdownState> when, UnaryOperator<ShutdownState> change) {
    ShutdownState s;
    synchronized (writeLock) {
      if (result != null || !when.test(state)) return null;
      s = change.apply(state);
      state = s;
    }
    wakeAll();
    return s;
  }

  /**
   * The first shutdown request, at {@code now}: returns the new state, or null if a shutdown began
   * already or the application ended. Written out rather than through {@link #updateIf}, whose
   * lambdas would be linked for the first time on the shutdown's path.
   */
  ShutdownState stop(ShutdownState.StopCause why, long now, long grace, long teardown, long kill) {
    ShutdownState s;
    synchronized (writeLock) {
      if (result != null || state.stopping()) return null;
      s = state.stop(why, now, grace, teardown, kill);
      state = s;
    }
    wakeAll();
    return s;
  }

  /** The application became ready. */
  void ready() {
    readyReached = true;
    wakeAll();
  }

  /** Publishes the result and {@link App.State#STOPPED}. */
  void end(App.Result r) {
    synchronized (writeLock) {
      result = r;
      state = state.withState(App.State.STOPPED);
    }
    wakeAll();
  }

  private void wakeAll() {
    for (Thread t : waiters) LockSupport.unpark(t);
  }

  /** Parks until the state is no longer {@code seen}, there is a result, or {@code until}. */
  void awaitChange(ShutdownState seen, long until) {
    Thread me = Thread.currentThread();
    waiters.add(me);
    Timer.Alarm alarm = timer.alarm(until);
    try {
      while (state == seen && result == null && !alarm.fired()) LockSupport.park(this);
    } finally {
      timer.cancel(alarm);
      waiters.remove(me);
    }
  }

  /**
   * Waits until {@code done} holds (it is checked after every change) or {@code timeout} (null: no
   * limit) has passed on the application's clock; returns whether it holds.
   *
   * @throws InterruptedException if interrupted while waiting (the flag is cleared)
   */
  boolean await(BooleanSupplier done, Duration timeout) throws InterruptedException {
    Thread me = Thread.currentThread();
    waiters.add(me);
    Timer.Alarm alarm = timeout == null ? null : timer.alarm(timer.after(timeout));
    try {
      while (!done.getAsBoolean()) {
        if (alarm != null && alarm.fired()) return false;
        if (Thread.interrupted()) throw new InterruptedException();
        LockSupport.park(this);
      }
      return true;
    } finally {
      if (alarm != null) timer.cancel(alarm);
      waiters.remove(me);
    }
  }
}
