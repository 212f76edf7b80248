package dev.lifespan;

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
}
