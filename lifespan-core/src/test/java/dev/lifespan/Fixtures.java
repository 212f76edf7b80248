package dev.lifespan;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;

/** Small helpers shared by the core tests. */
final class Fixtures {
  private Fixtures() {}

  /** Runs {@code body}, turning a checked exception into an {@link AssertionError}. */
  static void unchecked(CheckedRunnable body) {
    try {
      body.run();
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** A thread factory for platform threads, for tests parameterised over thread kinds. */
  static ThreadFactory platform() {
    return Thread.ofPlatform().name("platform-task-", 0).factory();
  }

  /**
   * A task body that ignores cancellation: it counts {@code started} down, then waits for {@code
   * release}, counting {@code interrupted} down (may be null) and waiting on at every interrupt.
   */
  static CheckedRunnable ignoresCancellation(
      CountDownLatch started, CountDownLatch release, CountDownLatch interrupted) {
    return () -> {
      started.countDown();
      while (true) {
        try {
          release.await();
          return;
        } catch (InterruptedException ignored) {
          if (interrupted != null) interrupted.countDown();
        }
      }
    };
  }
}
