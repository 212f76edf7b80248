package dev.lifespan.bench;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

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

  /**
   * Starts {@code n} raw virtual threads that sleep until interrupted, waits until all are parked,
   * and collects garbage so that a measurement starts with an empty young generation.
   */
  static Thread[] rawSleepers(int n, Duration limit) throws InterruptedException {
    System.gc();
    Thread[] threads = new Thread[n];
    CountDownLatch parked = new CountDownLatch(n);
    Runnable sleeper =
        () -> {
          parked.countDown();
          try {
            Thread.sleep(Duration.ofDays(1));
          } catch (InterruptedException e) {
            // asked to end
          }
        };
    for (int i = 0; i < n; i++) threads[i] = Thread.ofVirtual().start(sleeper);
    if (!parked.await(limit.toSeconds(), TimeUnit.SECONDS)) {
      throw new IllegalStateException("threads did not start: " + parked.getCount() + " left");
    }
    awaitAllBlocked(threads, limit);
    System.gc();
    return threads;
  }
}
