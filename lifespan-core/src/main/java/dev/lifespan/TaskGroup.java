package dev.lifespan;

import dev.lifespan.internal.GroupImpl;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadFactory;

/**
 * A fail-fast owner of short-lived tasks: the body and every task spawned into the group run under
 * the group's scope, and the group ends only when all of them have ended.
 *
 * {@snippet :
 * Page page = TaskGroup.call("render", group -> {
 *     Task<User> user = group.fork("user", () -> users.find(id));
 *     Task<List<Order>> orders = group.fork("orders", () -> orders.recent(id));
 *     return new Page(user.join(), orders.join());
 * });
 * }
 *
 * <h2>Lifecycle</h2>
 *
 * {@link #run} and {@link #call} open the group on the calling thread (its <em>owner</em>) and run
 * the body in it. While the body runs or any task is running, tasks may be spawned into the group,
 * by the body, by tasks, or by any thread holding the group. When the body has returned, the owner
 * waits for every task to end; then the group is <em>closed</em> and spawning into it throws {@link
 * IllegalStateException}. Tasks run on virtual threads unless a {@link ThreadFactory} is given;
 * every task has a name (generated from the group's name if none is given). The group holds
 * references to running tasks only.
 *
 * <h2>Failure</h2>
 *
 * The first failure, of the body or of a task, cancels the group: the body and all other tasks.
 * Once all have ended, the group throws that failure: the body's own exception unchanged, or a
 * task's failure as a {@link TaskFailedException} naming the task (a {@link VirtualMachineError} is
 * thrown as itself). Every further failure is added to it as suppressed. Cancellations are not
 * failures. Because the failure cancels the body, a body that joins the failed task sees its own
 * {@link CancelledException} rather than the failure, and the group reports the failure once; a
 * join inside a {@linkplain CancelScope.Options#shielded() shield} sees the {@link
 * TaskFailedException}.
 *
 * <h2>Cancellation</h2>
 *
 * The group is a {@link CancelScope} nested in the owner's innermost scope: cancelling an outer
 * scope reaches the body and every task, and {@link #cancel()} cancels exactly the group, which
 * then ends without an exception ({@code call} returns null if the body did not return). While the
 * owner waits for tasks to end it does not give up when it is cancelled or interrupted, so no task
 * outlives its group; the cancellation is delivered after the tasks ended. The group's deadline is
 * set through {@link #scope()}, or by opening it inside a scope with one.
 *
 * <h2>Memory consistency effects</h2>
 *
 * Actions in every task happen-before the group's {@code run}/{@code call} returns or throws.
 */
public sealed interface TaskGroup permits GroupImpl {

  /** Opens an unnamed group, runs {@code body} in it, and waits for all its tasks. */
  static <X extends Throwable> void run(ScopedRunnable<? super TaskGroup, X> body) throws X {
    run("task-group", null, body);
  }

  /** Opens a group called {@code name}, runs {@code body} in it, and waits for all its tasks. */
  static <X extends Throwable> void run(String name, ScopedRunnable<? super TaskGroup, X> body)
      throws X {
    run(name, null, body);
  }

  /**
   * Opens a group called {@code name} whose tasks run on threads from {@code threadFactory} (null:
   * virtual threads), runs {@code body} in it, and waits for all its tasks.
   *
   * @throws X what the body threw, unchanged, if it was the first failure
   * @throws TaskFailedException if a task's failure was the first
   * @throws CancelledException if an outer scope was cancelled
   */
  static <X extends Throwable> void run(
      String name, ThreadFactory threadFactory, ScopedRunnable<? super TaskGroup, X> body)
      throws X {
    Objects.requireNonNull(body, "body");
    call(
        name,
        threadFactory,
        g -> {
          body.run(g);
          return null;
        });
  }

  /** Like {@link #run(ScopedRunnable)}, returning the body's result. */
  static <T, X extends Throwable> T call(ScopedCallable<? super TaskGroup, ? extends T, X> body)
      throws X {
    return call("task-group", null, body);
  }

  /** Like {@link #run(String, ScopedRunnable)}, returning the body's result. */
  static <T, X extends Throwable> T call(
      String name, ScopedCallable<? super TaskGroup, ? extends T, X> body) throws X {
    return call(name, null, body);
  }

  /**
   * Like {@link #run(String, ThreadFactory, ScopedRunnable)}, returning the body's result, or null
   * if the group was cancelled by its own {@link #cancel()} or deadline before the body returned.
   */
  static <T, X extends Throwable> T call(
      String name,
      ThreadFactory threadFactory,
      ScopedCallable<? super TaskGroup, ? extends T, X> body)
      throws X {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(body, "body");
    return GroupImpl.open(name, threadFactory, body);
  }

  /** The group's name. */
  String name();

  /**
   * Spawns a task that computes a value, with a generated name.
   *
   * @throws IllegalStateException if the group is closed
   */
  <R> Task<R> fork(Callable<? extends R> body);

  /**
   * Spawns a task called {@code name} that computes a value.
   *
   * @throws IllegalStateException if the group is closed
   */
  <R> Task<R> fork(String name, Callable<? extends R> body);

  /**
   * Spawns a task that returns nothing, with a generated name.
   *
   * @throws IllegalStateException if the group is closed
   */
  Task<Void> spawn(CheckedRunnable body);

  /**
   * Spawns a task called {@code name} that returns nothing.
   *
   * @throws IllegalStateException if the group is closed
   */
  Task<Void> spawn(String name, CheckedRunnable body);

  /**
   * Spawns a task called {@code name} and waits until it reports {@link Started#started(Object)};
   * returns the value it reported. The task keeps running in the group afterwards, and from then on
   * its failure is the group's.
   *
   * <p>Until it reports, the task belongs to this call: a failure comes out of {@code start}
   * directly (as {@link TaskFailedException}) and not out of the group; returning without reporting
   * throws {@link IllegalStateException}; if the caller is cancelled while waiting, the task is
   * cancelled too and the caller's {@link CancelledException} propagates. Reporting twice fails the
   * task with {@code IllegalStateException}.
   *
   * @throws IllegalStateException if the group is closed, or the task returned without reporting
   * @throws TaskFailedException if the task failed before it reported
   * @throws java.util.concurrent.CancellationException if the task was cancelled before it
   *     reported, while the caller was not
   */
  <V> V start(String name, Startable<V> body);

  /** Cancels the group: its body and all its tasks. The group then ends without an exception. */
  void cancel();

  /** Like {@link #cancel()}, with a reason that the tasks' {@link CancelledException} shows. */
  void cancel(String reason);

  /** The group's own scope, to set its deadline or query its cancellation. */
  CancelScope scope();
}
