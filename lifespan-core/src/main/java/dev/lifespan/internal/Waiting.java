package dev.lifespan.internal;

import dev.lifespan.CancelledException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Blocking with the semantics of a library checkpoint. */
final class Waiting {
  private Waiting() {}

  /**
   * Parks the calling thread until {@code ready} holds; whoever makes it hold unparks the thread.
   * Throws {@link CancelledException} as soon as the caller's scope is cancelled, and also, with
   * the interrupt flag left set, when the caller is interrupted by code outside the library.
   *
   * @param what what is awaited: the park blocker, and named by the exception
   * @param timeoutNanos how long to wait at most, or negative to wait without limit
   * @return false if the time ran out first
   */
  static boolean await(BooleanSupplier ready, Object what, long timeoutNanos) {
    long deadline = timeoutNanos >= 0 ? System.nanoTime() + timeoutNanos : 0;
    while (!ready.getAsBoolean()) {
      ScopeNode.checkpoint();
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
    return true;
  }
}
