package dev.lifespan.internal;

import dev.lifespan.CancelledException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Blocking with the semantics of a library checkpoint. */
final class Waiting {
  private Waiting() {}

  /**
   * Parks the calling thread until {@code ready} holds; whoever makes it hold unparks the thread. A
   * checkpoint: throws {@link CancelledException} whenever the caller's scope is cancelled, also if
   * {@code ready} already holds; and also, with the interrupt flag left set, when the caller is
   * interrupted by code outside the library.
   *
   * @param what what is awaited: the park blocker, and named by the exception
   */
  static void await(BooleanSupplier ready, Object what) {
    await(ready, what, null, 0);
  }

  /**
   * {@link #await(BooleanSupplier, Object)} until at most {@code deadline} on {@code timer} (null:
   * no limit), on the timer's clock: a fake timer ends the wait when a test advances it.
   *
   * @return false if the time ran out first
   */
  static boolean await(BooleanSupplier ready, Object what, Timer timer, long deadline) {
    Timer.Alarm alarm = null;
    try {
      while (true) {
        Scopes.checkpoint(); // first, so a cancelled caller never gets a normal return
        if (ready.getAsBoolean()) return true;
        if (Thread.interrupted()) {
          Scopes.checkpoint(); // a cancellation that arrived after the first check wins
          Thread t = Thread.currentThread();
          t.interrupt();
          throw new CancelledException(
              "Thread '" + t.getName() + "' was interrupted while waiting for " + what);
        }
        if (timer != null) {
          if (alarm == null) alarm = timer.alarm(deadline);
          if (alarm.fired()) return ready.getAsBoolean();
        }
        LockSupport.park(what);
      }
    } finally {
      if (alarm != null) timer.cancel(alarm);
    }
  }
}
