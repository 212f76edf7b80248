package dev.lifespan;

/**
 * The body of a task that returns nothing; like {@link Runnable}, but it may throw, and what it
 * throws is the task's failure.
 */
@FunctionalInterface
public interface CheckedRunnable {
  /** Runs the task's body. */
  void run() throws Exception;
}
