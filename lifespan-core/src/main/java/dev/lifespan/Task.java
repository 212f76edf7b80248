package dev.lifespan;

import dev.lifespan.internal.TaskImpl;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;

/**
 * The handle of one task spawned into a {@link TaskGroup}: its name, its state, and ways to wait
 * for it and to cancel it.
 *
 * <p>A task runs on its own thread (virtual unless its group was given a thread factory), as the
 * root scope of that thread, under the scope of its group. It <em>ends</em> in one of three ways:
 * it <em>succeeded</em> (its body returned), it <em>failed</em> (its body threw something that is
 * not a cancellation), or it was <em>cancelled</em> (its body threw a cancellation — {@link
 * CancelledException}, an interruption, or an exception caused by one — while the task or a scope
 * above it was cancelled). A cancellation exception thrown while nothing above the task was
 * cancelled is a failure, not a cancellation, so an interrupt from outside the library is never
 * mistaken for a cancellation. A task cancelled before its body started never runs its body.
 *
 * <h2>Waiting</h2>
 *
 * {@link #join()} and {@link #cancelAndWait(Duration)} may be called from any thread except the
 * task's own (that would wait forever; it throws {@link IllegalStateException}). They are library
 * checkpoints: if the <em>caller's</em> scope is cancelled while it waits, the caller's {@link
 * CancelledException} propagates — a task's cancellation is reported differently (a plain {@link
 * CancellationException}), so the two are never confused. An interrupt the library did not cause
 * ends the wait with a {@code CancelledException} whose {@code scopeName()} is null, and leaves the
 * interrupt flag set.
 *
 * <h2>The task's thread</h2>
 *
 * The library keeps the task in its thread's {@linkplain Thread#getUncaughtExceptionHandler()
 * uncaught-exception handler} slot, to find it without a per-thread lookup; a handler that the
 * group's thread factory set is kept and receives what it would have. Code running in the task must
 * not replace its own thread's handler: the scopes it opened afterwards would no longer be below
 * the task, and a cancellation of the task would reach them by interrupt only.
 *
 * <h2>Interoperation</h2>
 *
 * {@link #state()} uses {@link Future.State}; {@link #toCompletableFuture()} gives a future that
 * completes when the task ends.
 *
 * <h2>Memory consistency effects</h2>
 *
 * Actions in the task happen-before a successful return from {@code join()}, {@code
 * cancelAndWait()} and the completion of its futures.
 *
 * @param <T> the task's result
 */
public sealed interface Task<T> permits TaskImpl {
  /** The task's name, unique within its group when generated. */
  String name();

  /**
   * {@code RUNNING} until the task ends, then {@code SUCCESS}, {@code FAILED} or {@code CANCELLED}.
   */
  Future.State state();

  /** Whether the task has ended. */
  boolean isDone();

  /**
   * Waits until the task has ended and returns its result.
   *
   * @throws TaskFailedException if the task failed; its cause is what the task threw
   * @throws CancellationException if the task was cancelled (not a {@link CancelledException})
   * @throws CancelledException if the calling thread's scope is cancelled while it waits
   * @throws IllegalStateException if called from the task itself
   */
  T join();

  /**
   * Requests cancellation of the task: its thread is interrupted and its next checkpoint throws.
   * Returns at once; idempotent; callable from any thread.
   */
  void cancel();

  /**
   * Cancels the task and waits, at most {@code timeout}, until it has ended. Returns normally if it
   * ended by cancellation or by success.
   *
   * @throws TaskFailedException if the task ended with a failure (including one that happened
   *     before or while it was being cancelled)
   * @throws TimeoutException if the task did not end within {@code timeout}: it ignores
   *     cancellation; it is still cancelled and still running
   * @throws CancelledException if the calling thread's scope is cancelled while it waits
   * @throws IllegalStateException if called from the task itself
   * @throws IllegalArgumentException if {@code timeout} is negative
   */
  void cancelAndWait(Duration timeout) throws TimeoutException;

  /**
   * The result of a task that succeeded.
   *
   * @throws IllegalStateException if the task has not succeeded, naming its state
   */
  T resultNow();

  /**
   * What a failed task threw.
   *
   * @throws IllegalStateException if the task has not failed, naming its state
   */
  Throwable exceptionNow();

  /**
   * A new future that completes when the task ends: with its result, with what it threw (if it
   * failed), or exceptionally with a {@link CancellationException} (if it was cancelled).
   * Cancelling the future requests cancellation of the task; completing it by other means does not
   * affect the task.
   */
  CompletableFuture<T> toCompletableFuture();
}
