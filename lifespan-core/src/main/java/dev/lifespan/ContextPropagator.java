package dev.lifespan;

import dev.lifespan.internal.Propagation;

/**
 * Carries thread-local context — SLF4J's MDC, OpenTelemetry's {@code Context}, a security principal
 * — from the thread that spawns a task into the task.
 *
 * <p>A propagator has two halves. {@link #capture()} runs on the spawning thread, when the task is
 * spawned, and returns a {@link Snapshot} of what to carry (or null, for nothing). The snapshot's
 * {@link Snapshot#restore()} runs on the task's thread just before its body, and returns what
 * {@linkplain Restored#close() undoes} the restore, which runs just after the body has ended
 * (returned, failed or been cancelled), so that a thread from a pool does not keep the context:
 *
 * {@snippet :
 * ContextPropagator requestId = () -> {
 *     String id = REQUEST_ID.get();                  // on the spawning thread
 *     return id == null ? null : () -> {
 *         String before = REQUEST_ID.get();           // on the task's thread
 *         REQUEST_ID.set(id);
 *         return () -> REQUEST_ID.set(before);        // after the body
 *     };
 * };
 * }
 *
 * <h2>Where context is carried</h2>
 *
 * Into every task the library spawns: the tasks of a {@link TaskGroup} (including {@link
 * TaskGroup#start}), a {@link Supervisor}'s tasks and services (a restarted service runs again on
 * its task's thread, with the context still in place), {@link Supervisor#fireAndForget} work, and
 * what is built on them, such as the request handlers of an HTTP server built on Lifespan. It is
 * captured where the task is spawned, not where its group was opened. An application's main body
 * carries the context of the thread that started the application.
 *
 * <h2>Registering</h2>
 *
 * A propagator applies process-wide once {@linkplain #register(ContextPropagator) registered}, or
 * to one application's tasks through {@link App.Options#withContextPropagator}. Process-wide
 * propagators are restored first, in the order they were registered, then the application's; undos
 * run in the reverse order. With none registered, spawning a task reads two fields and allocates
 * nothing for context.
 *
 * <h2>Exceptions and threads</h2>
 *
 * A {@code capture()} that throws makes the spawn throw that exception, and no task is created. A
 * {@code restore()} that throws makes the task fail with that exception before its body runs (the
 * restores done before it are undone). An undo that throws is logged once, as a warning on the
 * {@code System.Logger} {@code dev.lifespan}; the other undos still run and the task's outcome is
 * unchanged. Propagators are called concurrently from many threads and must be thread-safe; they
 * should be fast, since they run on every spawn.
 */
@FunctionalInterface
public interface ContextPropagator {

  /**
   * Captures the context of the calling thread, which is spawning a task.
   *
   * @return what to restore in the task, or null if there is nothing to carry
   */
  Snapshot capture();

  /** Context captured on a spawning thread, to be restored on the task's thread. */
  @FunctionalInterface
  interface Snapshot {
    /**
     * Installs the captured context on the calling thread, the task's, before its body runs.
     *
     * @return what undoes it after the body, or null if there is nothing to undo
     */
    Restored restore();
  }

  /** Undoes a {@link Snapshot#restore()} on the task's thread, after the body has ended. */
  @FunctionalInterface
  interface Restored extends AutoCloseable {
    /** Restores the thread's context as it was before the snapshot was restored. */
    @Override
    void close();
  }

  /**
   * Registers {@code propagator} for every task spawned from now on, in any application and outside
   * of one, until the returned registration is closed. Registering the same propagator twice
   * carries its context twice.
   *
   * @return the registration; closing it (idempotent) stops carrying for tasks spawned afterwards
   * @throws NullPointerException if {@code propagator} is null
   */
  static Registration register(ContextPropagator propagator) {
    return Propagation.register(propagator);
  }

  /** A process-wide registration made by {@link #register(ContextPropagator)}. */
  interface Registration extends AutoCloseable {
    /** Unregisters the propagator; tasks spawned before keep what they captured. Idempotent. */
    @Override
    void close();
  }
}
