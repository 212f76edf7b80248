package dev.lifespan;

import dev.lifespan.internal.SupervisorImpl;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadFactory;

/**
 * A long-lived owner of background tasks that isolates failures: a task's failure never cancels its
 * siblings, the supervisor or its owner; it is reported, exactly once.
 *
 * {@snippet :
 * ShutdownReport report = Supervisor.run(Supervisor.Options.named("background"), sup -> {
 *     sup.spawn("metrics-flusher", () -> flushForever());          // failure: to the handler
 *     Task<Report> r = sup.fork("nightly-report", () -> report());  // failure: to whoever joins
 *     sup.spawnMustFinish("confirm order 7", () -> confirm(7));     // shutdown waits for it
 *     serveUntilShutdown();
 * });                                                              // shutdown with the grace
 * }
 *
 * <h2>Failures, reported exactly once</h2>
 *
 * A task started with {@link #spawn} is fire-and-forget: its failure goes to the supervisor's
 * {@link FailureHandler} (by default one {@code ERROR} record on the {@code System.Logger} named
 * {@code dev.lifespan}, with the task's name and the stack trace), on the task's thread. A task
 * started with {@link #fork} bears a result: its failure goes to whoever joins it ({@link
 * Task#join()}, {@link Task#exceptionNow()}, its future); if nobody has by the time the supervisor
 * shuts down, it goes to the handler then. A handler that throws is logged, never propagated.
 * Cancellations are not failures. A {@link VirtualMachineError} in a task aborts the supervisor:
 * everything is cancelled, must-finish tasks included, and the error is thrown to the owner by
 * {@link #run}, {@link #shutdown} and {@link #close()}.
 *
 * <h2>Shutdown</h2>
 *
 * {@link #shutdown(Duration)} refuses new tasks, cancels the ordinary ones, waits for the
 * <em>must-finish</em> tasks ({@link #spawnMustFinish}, which the supervisor's cancellation does
 * not reach) until the grace period ends, then cancels those too and waits at most the kill
 * timeout. The grace period is one budget for all the work under it: must-finish tasks of
 * supervisors nested inside a must-finish task (at any depth) are cancelled when it ends too, not
 * given a grace of their own that would start only then. It returns a {@link ShutdownReport},
 * naming the stragglers that ignored cancellation. It may be called from any thread, any number of
 * times; every caller gets the report of the one shutdown. {@link #close()} is {@code shutdown}
 * with the configured grace. {@link #awaitIdle()} waits for all tasks without cancelling anything.
 *
 * <h2>Structure and cancellation</h2>
 *
 * A supervisor is a scope nested in the scope it was opened in: cancelling that scope cancels every
 * ordinary task of the supervisor. {@link #run} runs a body inside the supervisor and shuts it down
 * when the body ends; {@link #open} returns a supervisor to be closed by its owner (with
 * try-with-resources) before the owner leaves the scope it was opened in. A supervisor still open
 * when that scope ends is shut down there with no grace. Waiting for a supervisor ({@code
 * shutdown}, {@code close}, {@code awaitIdle}) from one of its own tasks would wait forever and
 * throws {@link IllegalStateException} instead.
 *
 * <h2>Memory</h2>
 *
 * A supervisor holds references to running tasks only, and to forked tasks that failed and whose
 * failure nobody has taken yet.
 */
public sealed interface Supervisor extends AutoCloseable permits SupervisorImpl {

  /** Lifecycle states, in the order they are passed through. */
  enum State {
    /** Taking new tasks. */
    RUNNING,
    /** Shutdown has begun: new tasks are refused; running ones are being cancelled or awaited. */
    SHUTTING_DOWN,
    /** Shut down. */
    TERMINATED,
    /** Aborted by a fatal error or an escalation; it refuses new tasks. */
    FAILED
  }

  /** Receives the failures of tasks nobody else receives them from. */
  @FunctionalInterface
  interface FailureHandler {
    /** Called once for the failed {@code task}, with what it threw. */
    void failed(Task<?> task, Throwable failure);
  }

  /**
   * Opens a supervisor called {@code name} with the default options, nested in the current scope.
   */
  static Supervisor open(String name) {
    return open(Options.named(name));
  }

  /** Opens a supervisor with {@code options}, nested in the current scope; close it. */
  static Supervisor open(Options options) {
    Objects.requireNonNull(options, "options");
    return SupervisorImpl.open(options);
  }

  /**
   * Opens a supervisor with {@code options}, runs {@code body} in it on the calling thread, and
   * shuts it down with the configured grace when the body ends.
   *
   * @return the shutdown's report
   * @throws X what the body threw
   * @throws SupervisorFailedException if the supervisor escalated
   * @throws VirtualMachineError if a task hit one
   */
  static <X extends Throwable> ShutdownReport run(
      Options options, ScopedRunnable<? super Supervisor, X> body) throws X {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(body, "body");
    return SupervisorImpl.run(options, body);
  }

  /**
   * Starts a fire-and-forget task from anywhere, any thread: in the running application's
   * background supervisor if the calling thread belongs to one, otherwise in a process-wide
   * supervisor that is opened on first use outside any scope and drained when the JVM shuts down:
   * running tasks get the grace period set by the system property {@code lifespan.background.grace}
   * (an ISO-8601 duration, default {@code PT10S}) to finish, then are cancelled. Its failures go to
   * that supervisor's failure handler (the log).
   *
   * @throws IllegalStateException if that supervisor is shutting down
   */
  static Task<Void> fireAndForget(String name, CheckedRunnable body) {
    return dev.lifespan.internal.Background.fireAndForget(name, body);
  }

  /**
   * The supervisor {@link #fireAndForget} uses from the calling thread: the running application's
   * background supervisor, or the process-wide one (opened on first use). For must-finish and
   * result-bearing background work: {@code Supervisor.background().spawnMustFinish("confirm order
   * 7", ...)}. It is shut down by its owner (the application's shutdown, or the JVM's); closing it
   * yourself is allowed but stops it for everybody.
   */
  static Supervisor background() {
    return dev.lifespan.internal.Background.current();
  }

  /** The supervisor's name. */
  String name();

  /** The supervisor's lifecycle state. */
  State state();

  /**
   * Starts a fire-and-forget task: its failure goes to the failure handler.
   *
   * @throws IllegalStateException if the supervisor is shutting down, shut down or failed
   */
  Task<Void> spawn(String name, CheckedRunnable body);

  /**
   * Starts a task that bears a result: its failure goes to whoever joins it, or to the handler at
   * shutdown if nobody did.
   *
   * @throws IllegalStateException if the supervisor is shutting down, shut down or failed
   */
  <T> Task<T> fork(String name, Callable<? extends T> body);

  /**
   * Starts a fire-and-forget task that must finish: the supervisor's cancellation does not reach
   * it, and shutdown waits for it until the grace period ends. Its own {@link Task#cancel()} still
   * applies.
   *
   * @throws IllegalStateException if the supervisor is shutting down, shut down or failed
   */
  Task<Void> spawnMustFinish(String name, CheckedRunnable body);

  /**
   * Starts a restartable service (Erlang/OTP style) as a task named after it: its body runs again
   * after it ends, as {@code spec}'s restart policy says, after an exponential backoff with jitter;
   * each restart is logged ({@code WARNING}) with the attempt number and the cause. A {@link
   * ServiceSpec.Restart#TEMPORARY TEMPORARY} service's failure goes to the failure handler. Past
   * the restart intensity the supervisor <em>escalates</em>: it aborts as for a fatal error, and
   * its owner gets a {@link SupervisorFailedException} whose cause is the service's last failure.
   * Shutdown stops restarting at once: the service is an ordinary task and is cancelled.
   *
   * @throws IllegalStateException if the supervisor is shutting down, shut down or failed
   */
  Task<Void> startService(ServiceSpec spec);

  /**
   * Shuts the supervisor down (see the class description) and returns the report. Blocks until the
   * tasks ended, or at most {@code grace} plus the kill timeout; it does not give up earlier when
   * the caller is interrupted or cancelled, and restores the interrupt afterwards.
   *
   * @throws IllegalArgumentException if {@code grace} is negative
   * @throws IllegalStateException if called from one of the supervisor's own tasks
   * @throws SupervisorFailedException if the supervisor escalated
   * @throws VirtualMachineError if a task hit one
   */
  ShutdownReport shutdown(Duration grace);

  /** {@link #shutdown(Duration)} with the configured grace. */
  @Override
  void close();

  /**
   * Waits until no task runs, without cancelling anything; a checkpoint.
   *
   * @throws CancelledException if the caller's scope is cancelled while it waits
   * @throws IllegalStateException if called from one of the supervisor's own tasks
   */
  void awaitIdle();

  /**
   * How to open a supervisor. Immutable; each {@code with} method returns a copy.
   *
   * @param name the supervisor's name
   * @param grace the grace period of {@link Supervisor#close()}
   * @param killTimeout how long shutdown waits after cancelling must-finish tasks
   * @param failureHandler where failures go; null for the log
   * @param threadFactory the tasks' threads; null for virtual threads
   */
  record Options(
      String name,
      Duration grace,
      Duration killTimeout,
      FailureHandler failureHandler,
      ThreadFactory threadFactory) {
    /** Default grace period of {@link Supervisor#close()}: 30 s. */
    public static final Duration DEFAULT_GRACE = Duration.ofSeconds(30);

    /** Default kill timeout after the grace period: 5 s. */
    public static final Duration DEFAULT_KILL_TIMEOUT = Duration.ofSeconds(5);

    /**
     * Checks the components.
     *
     * @throws IllegalArgumentException if {@code grace} or {@code killTimeout} is negative
     */
    public Options {
      Objects.requireNonNull(name, "name");
      nonNegative("grace", grace, name);
      nonNegative("killTimeout", killTimeout, name);
    }

    /** Default options for a supervisor called {@code name}. */
    public static Options named(String name) {
      return new Options(name, DEFAULT_GRACE, DEFAULT_KILL_TIMEOUT, null, null);
    }

    /** A copy with the grace period of {@link Supervisor#close()}. */
    public Options withGrace(Duration grace) {
      return new Options(name, grace, killTimeout, failureHandler, threadFactory);
    }

    /** A copy with how long shutdown waits after cancelling must-finish tasks. */
    public Options withKillTimeout(Duration killTimeout) {
      return new Options(name, grace, killTimeout, failureHandler, threadFactory);
    }

    /** A copy whose failures go to {@code handler} instead of the log. */
    public Options withFailureHandler(FailureHandler handler) {
      Objects.requireNonNull(handler, "handler");
      return new Options(name, grace, killTimeout, handler, threadFactory);
    }

    /** A copy whose tasks run on threads from {@code threadFactory} instead of virtual threads. */
    public Options withThreadFactory(ThreadFactory threadFactory) {
      Objects.requireNonNull(threadFactory, "threadFactory");
      return new Options(name, grace, killTimeout, failureHandler, threadFactory);
    }

    private static void nonNegative(String what, Duration d, String name) {
      Objects.requireNonNull(d, what);
      if (d.isNegative()) {
        throw new IllegalArgumentException(what + " < 0: " + d + " (supervisor '" + name + "')");
      }
    }

    @Override
    public String toString() {
      return "Supervisor.Options["
          + name
          + ", grace="
          + grace
          + ", killTimeout="
          + killTimeout
          + "]";
    }
  }
}
