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
   * @param timeoutNanos how long to wait at most, or negative to wait without limit
   * @return false if the time ran out first
   */
  static boolean await(BooleanSupplier ready, Object what, long timeoutNanos) {
    long deadline = timeoutNanos >= 0 ? System.nanoTime() + timeoutNanos : 0;
    while (true) {
      ScopeNode.checkpoint(); // first, so a cancelled caller never gets a normal return
      if (ready.getAsBoolean()) return true;
      if (Thread.interrupted()) {
        ScopeNode.checkpoint(); // a cancellation that arrived after the first check wins
        Thread t = Thread.currentThread();
        t.interrupt();
        throw new CancelledException(
            "Thread '" + t.getName() + "' was interrupted while waiting for " + what);
      }
      if (timeoutNanos < 0) {
        LockSupport.park(what);
      } else {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) return ready.getAsBoolean();
        LockSupport.parkNanos(what, remaining);
      }
    }
  }
}
