package dev.lifespan.spring;

import dev.lifespan.Supervisor;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.core.task.AsyncTaskExecutor;
import org.springframework.core.task.TaskRejectedException;

/**
 * A Spring {@link AsyncTaskExecutor} whose tasks are tasks of the Lifespan application's supervisor
 * ({@link LifespanApplication#supervisor()}): each runs on its own virtual thread, as a thread of
 * the application ({@code LifespanLocal}s resolve), and the shutdown deals with it in {@link
 * LifespanApplication#SUPERVISORS_PHASE}, after the web server has stopped.
 *
 * <p>Two kinds, two beans:
 *
 * <ul>
 *   <li><b>Must-finish</b> ({@link #mustFinish}), the bean {@code applicationTaskExecutor} (alias
 *       {@code taskExecutor}), which {@code @Async} methods use by default: the shutdown waits for
 *       its tasks until the grace period ends ({@code lifespan.shutdown.grace}, counted from the
 *       first stop), then cancels them, and a task cut so is reported as abandoned must-finish
 *       work. The default because {@code @Async} work is usually a promise already made (the mail
 *       after the order), which a shutdown should keep rather than drop.
 *   <li><b>Cancellable</b> ({@link #cancellable}), the bean {@code
 *       lifespanCancellableTaskExecutor}: its tasks are cancelled (interrupted) when the
 *       supervisors stop; a task that ignores the cancellation is reported as a straggler, with its
 *       stack trace, in the log. Pick it with {@code @Async("lifespanCancellableTaskExecutor")}.
 * </ul>
 *
 * <h2>Rejection</h2>
 *
 * Both take tasks through the drain delay and the web server's graceful shutdown, because requests
 * still in flight may hand work to them; from the supervisors' phase on (the web server has
 * stopped) they throw {@link TaskRejectedException} naming the task, the executor, the application
 * and why.
 *
 * <h2>Failures</h2>
 *
 * A task of {@link #execute} that throws is reported once, by the supervisor's failure handler (one
 * {@code ERROR} record with the task's name and stack trace). {@code @Async void} methods never
 * throw into the executor: Spring hands their exceptions to its {@code
 * AsyncUncaughtExceptionHandler} (by default one {@code ERROR} record), once. Submitted tasks
 * ({@code submit}, {@code @Async} methods returning a future) hand their failure to the future.
 */
public final class LifespanTaskExecutor implements AsyncTaskExecutor {
  private final String name;
  private final LifespanApplication application;
  private final boolean mustFinish;
  private final AtomicLong count = new AtomicLong();

  private LifespanTaskExecutor(String name, LifespanApplication application, boolean mustFinish) {
    this.name = Objects.requireNonNull(name, "name");
    this.application = Objects.requireNonNull(application, "application");
    this.mustFinish = mustFinish;
  }

  /** An executor called {@code name} whose tasks are must-finish tasks of {@code application}. */
  public static LifespanTaskExecutor mustFinish(String name, LifespanApplication application) {
    return new LifespanTaskExecutor(name, application, true);
  }

  /** An executor called {@code name} whose tasks are cancelled when the supervisors stop. */
  public static LifespanTaskExecutor cancellable(String name, LifespanApplication application) {
    return new LifespanTaskExecutor(name, application, false);
  }

  /** The executor's name; its tasks are called {@code name-1}, {@code name-2}, ... */
  public String name() {
    return name;
  }

  /** Whether the shutdown waits for its tasks. */
  public boolean isMustFinish() {
    return mustFinish;
  }

  /**
   * Starts {@code task} as a task of the application's supervisor.
   *
   * @throws TaskRejectedException once the supervisors' phase of the shutdown has begun
   */
  @Override
  public void execute(Runnable task) {
    Objects.requireNonNull(task, "task");
    String taskName = name + "-" + count.incrementAndGet();
    Supervisor supervisor = application.supervisor();
    if (application.supervisorsStopping()) throw rejected(taskName, supervisor, null);
    try {
      if (mustFinish) supervisor.spawnMustFinish(taskName, task::run);
      else supervisor.spawn(taskName, task::run);
    } catch (IllegalStateException e) {
      throw rejected(taskName, supervisor, e);
    }
  }

  private TaskRejectedException rejected(String task, Supervisor s, Exception cause) {
    return new TaskRejectedException(
        "task '"
            + task
            + "' rejected: executor '"
            + name
            + "' of Lifespan application '"
            + application.name()
            + "' takes no more tasks, the application is shutting down (supervisor '"
            + s.name()
            + "' "
            + s.state()
            + ")",
        cause);
  }

  @Override
  public String toString() {
    return "LifespanTaskExecutor[" + name + (mustFinish ? ", must-finish" : ", cancellable") + "]";
  }
}
