package dev.lifespan;

import dev.lifespan.internal.Observers;
import java.time.Duration;
import java.util.concurrent.Future;

/**
 * Is told what happens to tasks, services and shutdowns, so that an integration can count it
 * (metrics) without the library knowing about it. Every method has an empty default; implement
 * those you need:
 *
 * {@snippet :
 * LongAdder failed = new LongAdder();
 * LifespanObserver countFailures = new LifespanObserver() {
 *     @Override
 *     public void taskEnded(Owner owner, String task, boolean mustFinish,
 *                           Future.State outcome, Throwable failure) {
 *         if (outcome == Future.State.FAILED) failed.increment();
 *     }
 * };
 * try (var registration = LifespanObserver.register(countFailures)) {
 *     // ... every task in this process is counted
 * }
 * }
 *
 * <h2>What is reported, on which thread</h2>
 *
 * <ul>
 *   <li>{@link #taskStarted} and {@link #taskEnded}: every task of every {@link TaskGroup} and
 *       {@link Supervisor} (services, {@link Supervisor#fireAndForget} work and what is built on
 *       them included), on the task's own thread: when its thread starts running it, before its
 *       body; and when its body has ended, after its scope was left, before anybody can see the
 *       task ended ({@link Task#isDone()}, a join, a supervisor's {@code awaitIdle} or shutdown,
 *       the failure handler). A task whose thread could not be started is reported neither way.
 *   <li>{@link #serviceRestarting}: a {@linkplain Supervisor#startService service} is about to wait
 *       and run its body again, on the service's thread.
 *   <li>{@link #shutdownPhaseBegan} and {@link #shutdownPhaseEnded}: the phases of a supervisor's
 *       shutdown ({@code cancel}, {@code grace}, {@code kill}, {@code report}), on the thread that
 *       runs it; and of an application's ({@code stop supervisor '<name>'}, {@code tear down layer
 *       '<name>'}), on its runner thread. They are the phases of the JDK Flight Recorder event
 *       {@code dev.lifespan.ShutdownPhase}. Durations are measured on the owner's clock (the
 *       application's, see {@link App.Options#withClock}), so a fake clock makes them exact.
 *   <li>{@link #straggler}: a supervisor's shutdown gave up waiting for a task that ignored its
 *       cancellation, on the thread that runs the shutdown, once per straggler in the report.
 * </ul>
 *
 * <h2>Ordering</h2>
 *
 * For one task, {@code taskStarted} happens before {@code taskEnded}, both on the task's thread; an
 * observer is told the end of exactly the tasks whose start it was told, even if it is unregistered
 * in between (so a count of running tasks returns to zero). For one owner, each phase is begun
 * before it is ended, and ended before the next phase is begun. Events of different tasks and
 * owners arrive concurrently, from many threads, in no particular order: an observer must be
 * thread-safe.
 *
 * <h2>Registering</h2>
 *
 * An observer applies process-wide once {@linkplain #register(LifespanObserver) registered}, to
 * tasks and shutdowns inside and outside of applications; or to one application through {@link
 * App.Options#withObserver}: the tasks of its supervisors and task groups, its shutdown and those
 * of its supervisors. Process-wide observers are told first, in the order they were registered,
 * then the application's, in the order they were added. Registering one twice tells it twice.
 *
 * <h2>Cost</h2>
 *
 * With no observer registered anywhere in the process, a task's start reads one static field and
 * allocates nothing for observers, and nothing else is done. Observers run inline, on threads that
 * the library is running on: they must be fast and must not block (increment a counter; do not
 * write to a database or a socket), and must not wait for the task or the supervisor they are told
 * about.
 *
 * <h2>Exceptions</h2>
 *
 * An observer must not throw. If it does, the exception is logged once per observer, the first
 * time, as a warning with its stack trace on the {@code System.Logger} {@code dev.lifespan}, and
 * later ones are ignored; it changes no outcome: the task ends as it would have, the shutdown goes
 * on, and the other observers are still told. That holds for errors too ({@link
 * VirtualMachineError} included), since an observer is called where a task is ending.
 */
public interface LifespanObserver {

  /**
   * A task started running on its own thread, before its body.
   *
   * @param owner the task group or supervisor the task belongs to
   * @param task the task's name
   * @param mustFinish whether the task is must-finish ({@link Supervisor#spawnMustFinish})
   */
  default void taskStarted(Owner owner, String task, boolean mustFinish) {}

  /**
   * A task's body ended; on the task's thread, before the outcome is visible to anybody else.
   *
   * @param outcome {@link Future.State#SUCCESS}, {@link Future.State#FAILED FAILED} or {@link
   *     Future.State#CANCELLED CANCELLED}, as {@link Task#state()} will say
   * @param failure what the task threw if it failed, else null; for reading only (it is reported by
   *     the library as usual)
   */
  default void taskEnded(
      Owner owner, String task, boolean mustFinish, Future.State outcome, Throwable failure) {}

  /**
   * A service of {@code supervisor} is about to wait {@code delay} and then run its body again.
   *
   * @param attempt which restart this is within the service's intensity period, 1 for the first
   * @param cause the failure that ended the body, or null if it returned normally
   */
  default void serviceRestarting(
      Owner supervisor, String service, int attempt, Throwable cause, Duration delay) {}

  /** A phase of {@code owner}'s shutdown began (see the class description for the phases). */
  default void shutdownPhaseBegan(Owner owner, String phase) {}

  /** A phase of {@code owner}'s shutdown ended after {@code took}, on the owner's clock. */
  default void shutdownPhaseEnded(Owner owner, String phase, Duration took) {}

  /**
   * {@code supervisor}'s shutdown gave up waiting for {@code task}, which is still running.
   *
   * @param age how long the task has been running, in real time (as in {@link ShutdownReport})
   */
  default void straggler(Owner supervisor, String task, Duration age, boolean mustFinish) {}

  /**
   * What an event belongs to: a task group, a supervisor or an application. One value per owner,
   * made once, holding names only, so an observer may keep it (as a map key, say) without keeping
   * the owner alive. Two owners of the same kind and name in the same application are equal.
   *
   * @param app the name of the application the owner belongs to, or null outside of one
   * @param kind what the owner is
   * @param name the owner's name: the supervisor's, the task group's (generated for an unnamed
   *     group, as in task dumps) or the application's
   */
  record Owner(String app, Kind kind, String name) {
    /** What an owner is. */
    public enum Kind {
      /** An application ({@link App}); its events are its shutdown phases. */
      APPLICATION,
      /** A {@link Supervisor}. */
      SUPERVISOR,
      /** A {@link TaskGroup}. */
      TASK_GROUP
    }

    /**
     * Checks the components.
     *
     * @throws NullPointerException if {@code kind} or {@code name} is null
     */
    public Owner {
      java.util.Objects.requireNonNull(kind, "kind");
      java.util.Objects.requireNonNull(name, "name");
    }
  }

  /**
   * Registers {@code observer} for everything that happens from now on, in any application and
   * outside of one, until the returned registration is closed.
   *
   * @return the registration; closing it (idempotent) stops telling the observer about tasks that
   *     start and phases that begin afterwards (tasks it saw start are still reported when they
   *     end)
   * @throws NullPointerException if {@code observer} is null
   */
  static Registration register(LifespanObserver observer) {
    return Observers.register(observer);
  }

  /** A process-wide registration made by {@link #register(LifespanObserver)}. */
  interface Registration extends AutoCloseable {
    /** Unregisters the observer. Idempotent. */
    @Override
    void close();
  }
}
