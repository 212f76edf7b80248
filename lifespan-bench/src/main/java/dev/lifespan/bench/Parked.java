package dev.lifespan.bench;

import java.time.Duration;

/** Helpers to wait until many threads are parked, outside any measured region. */
final class Parked {
  private Parked() {}

  /**
   * Waits until every thread in {@code threads} is non-null and blocked ({@code WAITING} or {@code
   * TIMED_WAITING}), polling every millisecond; throws if that takes longer than {@code limit}.
   */
  static void awaitAllBlocked(Thread[] threads, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    int from = 0;
    while (from < threads.length) {
      Thread t = threads[from];
      if (t != null
          && (t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING)) {
        from++;
        continue;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(
            "thread " + from + " of " + threads.length + " not parked after " + limit + ": " + t);
      }
      Thread.sleep(1);
    }
  }
}
