package dev.lifespan;

import dev.lifespan.internal.AppRunner;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs an application, a {@link Lifespan} around a main body, as a process (or in-process, for
 * tests): startup, readiness, signals, a bounded and ordered shutdown that lets must-finish work
 * finish, progress an operator can follow, and an exit code that says why it stopped.
 *
 * {@snippet :
 * public static void main(String[] args) {
 *     App.runAndExit(App.Options.named("worker"), Lifespan.of(database, queue), () -> {
 *         Supervisor.fireAndForget("warm cache", cache::warm); // the app's background supervisor
 *         serveUntilCancelled();                           // cancelled by SIGTERM or SIGINT
 *     });
 * }
 * }
 *
 * <h2>Running</h2>
 *
 * The application runs on its own platform thread, called {@code app '<name>'}: the layers start in
 * order ({@link State#STARTING}), then the main body runs ({@link State#READY}); a {@code null}
 * body serves until shutdown is requested. Every thread of the application belongs to it for {@link
 * LifespanLocal}s, and {@link Supervisor#fireAndForget} from any of them lands in the application's
 * background supervisor. The application ends when the main body returns or fails, or when shutdown
 * is requested.
 *
 * <h2>Shutdown: one budget</h2>
 *
 * A shutdown request (the first SIGINT or SIGTERM, {@link #signal}, {@link #requestShutdown()}, or
 * the main body's end) starts the shutdown; {@code T} is that moment, on the application's clock
 * ({@link Options#withClock}). Everything is counted from {@code T}, as Kubernetes counts {@code
 * terminationGracePeriodSeconds} from the start of {@code preStop}:
 *
 * <ol>
 *   <li>Readiness becomes {@link State#DRAINING}. If the main body runs, it is cancelled after the
 *       drain delay ({@link Options#withDrainDelay}, default 0; Kubernetes services use a few
 *       seconds so that endpoints stop routing first). A layer still starting is cancelled at once.
 *   <li>The background supervisor shuts down, then each layer's supervisor, innermost first:
 *       ordinary tasks are cancelled, must-finish tasks run until {@code T + grace} ({@link
 *       Options#withGrace}, default 20 s) — the drain delay is part of the grace, so it must be
 *       shorter ({@link Options#validate()}) — then are cancelled and get the kill timeout ({@link
 *       Options#withKillTimeout}, default 2 s). Stragglers are printed with their stack traces.
 *   <li>The layers tear down in reverse.
 *   <li><b>Hard deadline</b>, {@code T + grace + teardown timeout} ({@link
 *       Options#withTeardownTimeout}, default 5 s): whatever still runs is cancelled, shields and
 *       must-finish tasks included. If the application has not ended one kill timeout later, the
 *       runner gives up: it prints every task still running, with its stack trace, and ends anyway
 *       ({@link Result#gaveUp()}). So a process is gone at most {@code grace + teardown timeout +
 *       kill timeout} after the first signal, 27 s by default, within Kubernetes' default of 30.
 * </ol>
 *
 * No phase waits past the hard deadline, whatever its own setting, and every "time left" the runner
 * prints is computed from these deadlines. A second SIGINT <em>forces</em>: must-finish tasks and
 * every shield of the main body and the supervisors are cancelled at once, the grace ends now and
 * the hard deadline moves to at most one kill timeout from now. A third gives up at once. A second
 * SIGTERM only prints how much time is left.
 *
 * <h2>Progress</h2>
 *
 * The runner reports each phase (startup of each layer, ready, shutdown begun and why, each
 * supervisor stopped, each layer torn down, the end and the exit code), and while a phase waits,
 * every progress interval ({@link Options#withProgressInterval}, default 1 s): what it waits for
 * (task names, how many, how many must finish) and how much time is left. Each line reads {@code [
 * 1.25 s] orders: message}: the application's {@link #uptime()}, its name, the message. Lines go to
 * {@link Options#withProgress} (default: {@code System.err}), one call per line, never
 * concurrently.
 *
 * <h2>Outcome and exit code</h2>
 *
 * <ul>
 *   <li>{@link Outcome#STARTUP_FAILED} (3) if a layer failed to start. The runner prints one line,
 *       {@code startup failed in layer 'http listener': port 8080 is already in use
 *       (BindException)} — the layer, the exception's message, the class of its innermost cause —
 *       and logs the stack trace at {@code DEBUG} on {@code System.Logger} {@code dev.lifespan}.
 *   <li>{@link Outcome#FAILED} (1) if the main body failed, a layer failed to tear down, or a
 *       supervisor of the application escalated (which also starts the shutdown); the failure is
 *       printed with its stack trace.
 *   <li>{@link Outcome#WORK_ABANDONED} (4) if the shutdown did not keep its promise: must-finish
 *       tasks were still running at the end of the grace period and were cancelled, tasks ignored
 *       cancellation (stragglers), or the runner gave up. The last line says how many must-finish
 *       tasks were abandoned and names up to ten; {@link Result#abandoned()} lists them.
 *   <li>Otherwise {@link Outcome#INTERRUPTED} (130) or {@link Outcome#TERMINATED} (143) if a SIGINT
 *       or SIGTERM started the shutdown, {@link Outcome#SUCCEEDED} (0) if the body returned or
 *       {@link #requestShutdown()} was called.
 * </ul>
 *
 * <p>Durable work does not change the outcome. Layers that keep work durably (a journal) count the
 * items they leave pending for the next start and those that failed for good ({@link
 * Lifespan.Context#addDurablePending}, {@link Lifespan.Context#addDurableFailed}); {@link
 * Result#durablePending()} and {@link Result#durableFailed()} sum them, and the last line says
 * them: {@code stopped 10000 ms after the shutdown request: TERMINATED, exit code 143; 3 durable
 * entries left pending for the next start}. An item left pending is not lost, it runs at the next
 * start; if the grace period cut the must-finish task that was running it, that task is counted as
 * abandoned ({@link Outcome#WORK_ABANDONED}) already. An item that failed for good was reported to
 * its layer's failure handler, as a failed task is to its supervisor's.
 *
 * <p>The codes are configurable ({@link Options#withExitCode}).
 *
 * <h2>Signals and exiting</h2>
 *
 * {@link #runAndExit} installs handlers for SIGINT and SIGTERM through {@code sun.misc.Signal} and
 * keeps them until the process exits: a signal that arrives while it exits is ignored and cannot
 * change the exit code (the JVM's own handlers would exit with 128 + the signal's number). The last
 * line it prints is always the one {@code stopped ...: OUTCOME, exit code N} line; a failure's
 * stack trace comes just before it, and nothing after it. Where the handlers cannot be installed
 * (the JVM reserves them, e.g. with {@code -Xrs}), a JVM shutdown hook stands in: the JVM's own
 * shutdown then waits for the application. A signal that the process inherited as ignored (SIGINT
 * for a background job of a non-interactive shell) stays ignored, because the JVM cannot undo that;
 * the runner says so at startup. It calls {@code System.exit} only from the thread that called
 * {@code runAndExit}, after the application ended and its own hook was removed, never from a signal
 * handler or a shutdown hook, so it cannot deadlock with the JVM's shutdown; when the JVM is
 * already exiting (the hook fallback, or someone else called {@code System.exit}), it does not call
 * it at all.
 *
 * <h2>In-process</h2>
 *
 * {@link #start} runs an application without signal handlers and without exiting: tests and
 * embedders call {@link #signal}, {@link #requestShutdown()}, {@link #await()} and read the {@link
 * Result}. Several applications may run side by side in one JVM, each with its own context.
 */
public final class App {
  private final AppRunner runner;

  private App(AppRunner runner) {
    this.runner = runner;
    runner.context().handle = this;
  }

  /**
   * The application the calling thread belongs to (see {@link LifespanLocal}), if any: for
   * readiness endpoints, dumps, or requesting a shutdown from inside.
   */
  public static Optional<App> current() {
    var c = dev.lifespan.internal.AppContext.current();
    return c == null ? Optional.empty() : Optional.of((App) c.handle);
  }

  /** Readiness and liveness, in order. */
  public enum State {
    /** The layers are starting. Alive, not ready. */
    STARTING,
    /** Started; the main body runs. Alive and ready. */
    READY,
    /** Shutting down. Alive, not ready. */
    DRAINING,
    /** Ended. */
    STOPPED
  }

  /** The signals the runner handles. */
  public enum Signal {
    /** SIGINT (Ctrl-C): the first stops gracefully, the second forces, the third gives up. */
    INT,
    /** SIGTERM: stops gracefully. */
    TERM
  }

  /** Why an application ended, with its default exit code. */
  public enum Outcome {
    /** The main body returned, or shutdown was requested in-process: exit code 0. */
    SUCCEEDED(0),
    /** The main body failed, teardown failed or a supervisor escalated: exit code 1. */
    FAILED(1),
    /** A layer failed to start: exit code 3. */
    STARTUP_FAILED(3),
    /** Stopped by SIGINT: exit code 130. */
    INTERRUPTED(130),
    /** Stopped by SIGTERM: exit code 143. */
    TERMINATED(143),
    /**
     * The shutdown did not keep its promise: must-finish tasks were still running when the grace
     * period ended and were cancelled, tasks ignored cancellation (stragglers), or the runner gave
     * up waiting at the hard deadline. Exit code 4, chosen to differ from every other outcome: not
     * 0, 130 or 143, which tell a supervisor of processes that the stop was clean, not 1, which
     * says something threw, and not 2 and 3, usage errors and startup failures. A {@link #FAILED}
     * or {@link #STARTUP_FAILED} application keeps that outcome even if it also abandoned work.
     */
    WORK_ABANDONED(4);

    private final int defaultExitCode;

    Outcome(int defaultExitCode) {
      this.defaultExitCode = defaultExitCode;
    }

    /** The exit code unless configured otherwise. */
    public int defaultExitCode() {
      return defaultExitCode;
    }
  }

  /**
   * How an application ended.
   *
   * @param application the application's name
   * @param outcome why it ended
   * @param exitCode the exit code for {@code outcome}
   * @param failure the failure for {@link Outcome#FAILED} and {@link Outcome#STARTUP_FAILED}: a
   *     {@link StartupFailedException}, the main body's exception, or a {@link
   *     ShutdownFailedException}; null otherwise
   * @param reports the shutdown reports of the application's supervisors, in the order they shut
   *     down (background first)
   * @param shutdownTime from the shutdown request to the end
   * @param gaveUp whether the runner gave up waiting after the hard deadline, leaving threads
   *     running
   * @param durablePending items of durable work (journal entries) that the layers left pending for
   *     the next start ({@link Lifespan.Context#addDurablePending}): not done, not lost
   * @param durableFailed items of durable work that failed for good in this run ({@link
   *     Lifespan.Context#addDurableFailed})
   */
  public record Result(
      String application,
      Outcome outcome,
      int exitCode,
      Throwable failure,
      List<ShutdownReport> reports,
      Duration shutdownTime,
      boolean gaveUp,
      int durablePending,
      int durableFailed) {
    /** Validates and copies. */
    public Result {
      Objects.requireNonNull(application, "application");
      Objects.requireNonNull(outcome, "outcome");
      reports = List.copyOf(reports);
      Objects.requireNonNull(shutdownTime, "shutdownTime");
      if (durablePending < 0 || durableFailed < 0) {
        throw new IllegalArgumentException(
            "durable counts < 0: pending " + durablePending + ", failed " + durableFailed);
      }
    }

    /** A result without durable work: both durable counts 0. */
    public Result(
        String application,
        Outcome outcome,
        int exitCode,
        Throwable failure,
        List<ShutdownReport> reports,
        Duration shutdownTime,
        boolean gaveUp) {
      this(application, outcome, exitCode, failure, reports, shutdownTime, gaveUp, 0, 0);
    }

    /** The stragglers of all reports. */
    public List<ShutdownReport.Straggler> stragglers() {
      return reports.stream().flatMap(r -> r.stragglers().stream()).toList();
    }

    /**
     * The names of the must-finish tasks of all reports that were still running at the end of the
     * grace period and were cancelled: the work the application promised and did not do.
     */
    public List<String> abandoned() {
      return reports.stream().flatMap(r -> r.abandoned().stream()).toList();
    }
  }

  // ---- running

  /**
   * Runs the application as the process: installs the signal handlers, runs it on its runner
   * thread, waits for it and exits the JVM with the exit code. Prints the failure, if any, with its
   * stack trace (once), just before the last line.
   *
   * @param body the main body; null to serve until shutdown is requested
   */
  public static void runAndExit(Options options, Lifespan lifespan, CheckedRunnable body) {
    new App(runner(options, lifespan, body)).runner.runAndExit();
  }

  /**
   * Starts the application in-process: no signal handlers, no exit. Returns at once; see {@link
   * #await()}.
   *
   * @param body the main body; null to serve until shutdown is requested
   */
  public static App start(Options options, Lifespan lifespan, CheckedRunnable body) {
    App app = new App(runner(options, lifespan, body));
    app.runner.start();
    return app;
  }

  private static AppRunner runner(Options options, Lifespan lifespan, CheckedRunnable body) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(lifespan, "lifespan");
    return new AppRunner(options.validate(), lifespan, body);
  }

  /** The application's name. */
  public String name() {
    return runner.name();
  }

  /**
   * How long the application has been running: since {@link #start} or {@link #runAndExit}, on its
   * clock ({@link Options#withClock}). The runner's progress lines are stamped with it.
   */
  public Duration uptime() {
    return runner.uptime();
  }

  /**
   * The clock the application runs on ({@link Options#withClock}; by default {@link
   * TimeSource#system()}): compare {@link #graceDeadline()} with its {@link TimeSource#instant()},
   * not with {@code Instant.now()}, so that the comparison holds under a fake clock too.
   */
  public TimeSource clock() {
    return runner.clock();
  }

  /** The application's readiness and liveness now. */
  public State state() {
    return runner.state();
  }

  /**
   * Waits until the application is ready or has stopped without getting there.
   *
   * @return true if it became ready
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean awaitReady() throws InterruptedException {
    return runner.awaitReady();
  }

  /**
   * Requests a graceful shutdown, as a signal would, but with the outcome {@link Outcome#SUCCEEDED}
   * unless something fails. Returns at once; idempotent; any thread.
   */
  public void requestShutdown() {
    runner.requestShutdown();
  }

  /** Acts exactly as if the process received {@code signal}; see the class description. */
  public void signal(Signal signal) {
    Objects.requireNonNull(signal, "signal");
    runner.signal(signal == Signal.INT);
  }

  /**
   * Waits for the application to end.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public Result await() throws InterruptedException {
    return runner.await((Duration) null).orElseThrow();
  }

  /**
   * Waits at most {@code timeout} for the application to end.
   *
   * @return its result, or empty if it has not ended in time
   * @throws InterruptedException if interrupted while waiting
   */
  public Optional<Result> await(Duration timeout) throws InterruptedException {
    Objects.requireNonNull(timeout, "timeout");
    return runner.await(timeout);
  }

  /**
   * When the shutdown's grace period ends: until then in-flight and must-finish work may run. Empty
   * until the shutdown began; now, once the shutdown was forced. For code that drains work of its
   * own when the main body is cancelled, such as a server finishing in-flight requests.
   */
  public Optional<java.time.Instant> graceDeadline() {
    return runner.graceDeadline();
  }

  /** A dump of the application's supervisors, groups and tasks; see {@link TaskDump}. */
  public TaskDump dump(boolean withStackTraces) {
    return runner.dump(withStackTraces);
  }

  @Override
  public String toString() {
    return "App[" + name() + ", " + state() + "]";
  }

  /**
   * How to run an application: its name, its shutdown budget, where its progress goes, its exit
   * codes and its clock. Immutable: each {@code with} method returns a copy with one component
   * changed, so a chain starts from {@link #named} and a value can be shared and extended freely.
   *
   * <p>Each component is checked alone whenever options are made, by {@link #named}, a {@code with}
   * method or the canonical constructor alike: null, a blank name, a negative duration, a progress
   * interval of zero, an exit code missing or outside 0..255 are refused with one line that names
   * the component, the value and the application, e.g. {@code grace < 0: PT-1S (app 'orders')}.
   * Combinations are checked by {@link #validate()} only, which {@link App#start} and {@link
   * App#runAndExit} call before anything starts.
   *
   * <p>Two options are equal if their components are: the name, the durations and the exit codes by
   * value, the progress sink and the clock as objects ({@code equals}, identity for lambdas).
   *
   * @param name the application's name, in its runner thread's name, its progress lines and its
   *     errors; not blank
   * @param grace from the shutdown request, how long must-finish work may run; includes the drain
   *     delay. Default 20 s
   * @param teardownTimeout after the grace period, how long the layers have to tear down before the
   *     hard deadline. Default 5 s
   * @param killTimeout how long cancelled work has to end before the runner stops waiting for it,
   *     and after the hard deadline before it gives up. Default 2 s
   * @param drainDelay how long the application stays {@link State#DRAINING} before the main body is
   *     cancelled. Default 0
   * @param progressInterval how often a waiting phase repeats its progress line; positive. Default
   *     1 s
   * @param progress where the progress lines go, one call per line, never concurrently; a sink that
   *     throws is replaced by {@code System.err} for that line. Default: {@code System.err} (read
   *     at each line)
   * @param exitCodes the exit code of each {@link Outcome}, 0 to 255, one for every outcome; kept
   *     as an unmodifiable copy in the outcomes' order. Default {@link Outcome#defaultExitCode()}
   * @param clock what the application's waits read (see {@link #withClock}). Default {@link
   *     TimeSource#system()}
   * @param contextPropagators the application's own {@link ContextPropagator}s, in order (see
   *     {@link #withContextPropagator}). Default none
   * @param observers the application's own {@link LifespanObserver}s, in order (see {@link
   *     #withObserver}). Default none
   */
  public record Options(
      String name,
      Duration grace,
      Duration teardownTimeout,
      Duration killTimeout,
      Duration drainDelay,
      Duration progressInterval,
      Consumer<String> progress,
      Map<Outcome, Integer> exitCodes,
      TimeSource clock,
      List<ContextPropagator> contextPropagators,
      List<LifespanObserver> observers) {
    private static final Consumer<String> STDERR = line -> System.err.println(line);

    /** Checks each component alone (see the class description) and copies the exit codes. */
    public Options {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) throw new IllegalArgumentException("App name is blank");
      nonNegative("grace", grace, name);
      nonNegative("teardownTimeout", teardownTimeout, name);
      nonNegative("killTimeout", killTimeout, name);
      nonNegative("drainDelay", drainDelay, name);
      if (nonNegative("progressInterval", progressInterval, name).isZero()) {
        throw new IllegalArgumentException(
            "progressInterval must be positive: " + progressInterval + " (app '" + name + "')");
      }
      Objects.requireNonNull(progress, "progress");
      exitCodes = exitCodesOf(exitCodes, name);
      Objects.requireNonNull(clock, "clock");
      Objects.requireNonNull(contextPropagators, "contextPropagators");
      for (int i = 0; i < contextPropagators.size(); i++) {
        if (contextPropagators.get(i) == null) {
          throw new NullPointerException(
              "contextPropagators[" + i + "] is null (app '" + name + "')");
        }
      }
      contextPropagators = List.copyOf(contextPropagators);
      Objects.requireNonNull(observers, "observers");
      for (int i = 0; i < observers.size(); i++) {
        if (observers.get(i) == null) {
          throw new NullPointerException("observers[" + i + "] is null (app '" + name + "')");
        }
      }
      observers = List.copyOf(observers);
    }

    /** Default options for an application called {@code name}. */
    public static Options named(String name) {
      Map<Outcome, Integer> codes = new EnumMap<>(Outcome.class);
      for (Outcome o : Outcome.values()) codes.put(o, o.defaultExitCode());
      return new Options(
          name,
          Duration.ofSeconds(20),
          Duration.ofSeconds(5),
          Duration.ofSeconds(2),
          Duration.ZERO,
          Duration.ofSeconds(1),
          STDERR,
          codes,
          TimeSource.system(),
          List.of(),
          List.of());
    }

    /** A copy whose must-finish work may run until {@code grace} after the shutdown request. */
    public Options withGrace(Duration grace) {
      return new Options(
          name,
          grace,
          teardownTimeout,
          killTimeout,
          drainDelay,
          progressInterval,
          progress,
          exitCodes,
          clock,
          contextPropagators,
          observers);
    }

    /** A copy whose layers get {@code timeout} after the grace period to tear down. */
    public Options withTeardownTimeout(Duration timeout) {
      return new Options(
          name,
          grace,
          timeout,
          killTimeout,
          drainDelay,
          progressInterval,
          progress,
          exitCodes,
          clock,
          contextPropagators,
          observers);
    }

    /** A copy that waits {@code timeout} for cancelled work to end before giving up on it. */
    public Options withKillTimeout(Duration timeout) {
      return new Options(
          name,
          grace,
          teardownTimeout,
          timeout,
          drainDelay,
          progressInterval,
          progress,
          exitCodes,
          clock,
          contextPropagators,
          observers);
    }

    /** A copy that waits {@code delay} in {@link State#DRAINING} before cancelling the body. */
    public Options withDrainDelay(Duration delay) {
      return new Options(
          name,
          grace,
          teardownTimeout,
          killTimeout,
          delay,
          progressInterval,
          progress,
          exitCodes,
          clock,
          contextPropagators,
          observers);
    }

    /** A copy that repeats a waiting phase's progress line every {@code interval}. */
    public Options withProgressInterval(Duration interval) {
      return new Options(
          name,
          grace,
          teardownTimeout,
          killTimeout,
          drainDelay,
          interval,
          progress,
          exitCodes,
          clock,
          contextPropagators,
          observers);
    }

    /** A copy whose progress lines go to {@code sink} instead of {@code System.err}. */
    public Options withProgress(Consumer<String> sink) {
      Objects.requireNonNull(sink, "sink");
      return new Options(
          name,
          grace,
          teardownTimeout,
          killTimeout,
          drainDelay,
          progressInterval,
          sink,
          exitCodes,
          clock,
          contextPropagators,
          observers);
    }

    /**
     * A copy whose application runs on {@code clock}: every wait of the runner and of the scopes,
     * groups, supervisors and tasks of the application reads it (see {@link TimeSource}). For
     * tests, a fake clock makes a shutdown a timeline. Default {@link TimeSource#system()}.
     */
    public Options withClock(TimeSource clock) {
      return new Options(
          name,
          grace,
          teardownTimeout,
          killTimeout,
          drainDelay,
          progressInterval,
          progress,
          exitCodes,
          clock,
          contextPropagators,
          observers);
    }

    /**
     * A copy that also carries {@code propagator}'s context into every task of the application,
     * after the process-wide propagators (see {@link ContextPropagator}).
     */
    public Options withContextPropagator(ContextPropagator propagator) {
      Objects.requireNonNull(propagator, "propagator");
      List<ContextPropagator> all = new java.util.ArrayList<>(contextPropagators);
      all.add(propagator);
      return new Options(
          name,
          grace,
          teardownTimeout,
          killTimeout,
          drainDelay,
          progressInterval,
          progress,
          exitCodes,
          clock,
          all,
          observers);
    }

    /**
     * A copy that also tells {@code observer} what happens to the application's tasks, services and
     * shutdowns, after the process-wide observers (see {@link LifespanObserver}).
     */
    public Options withObserver(LifespanObserver observer) {
      Objects.requireNonNull(observer, "observer");
      List<LifespanObserver> all = new java.util.ArrayList<>(observers);
      all.add(observer);
      return new Options(
          name,
          grace,
          teardownTimeout,
          killTimeout,
          drainDelay,
          progressInterval,
          progress,
          exitCodes,
          clock,
          contextPropagators,
          all);
    }

    /** A copy that exits with {@code code} (0 to 255) for {@code outcome}. */
    public Options withExitCode(Outcome outcome, int code) {
      Objects.requireNonNull(outcome, "outcome");
      Map<Outcome, Integer> codes = new EnumMap<>(exitCodes);
      codes.put(outcome, code);
      return new Options(
          name,
          grace,
          teardownTimeout,
          killTimeout,
          drainDelay,
          progressInterval,
          progress,
          codes,
          clock,
          contextPropagators,
          observers);
    }

    /** The exit code for {@code outcome}. */
    public int exitCode(Outcome outcome) {
      Objects.requireNonNull(outcome, "outcome");
      return exitCodes.get(outcome);
    }

    /**
     * Checks that the options fit together, and returns them. {@link App#start} and {@link
     * App#runAndExit} call it before anything starts; call it yourself to refuse bad settings
     * earlier (a command line, say). The constructor and the {@code with} methods check each value
     * alone; this checks combinations, which a chain of {@code with} calls may pass through on its
     * way to a valid result (raising the grace after the drain delay, say):
     *
     * <ul>
     *   <li>the drain delay must be shorter than the grace period, because the grace period
     *       includes it: the main body is cancelled at the end of the drain, and must-finish work
     *       needs the rest of the grace. A drain delay of 0 fits any grace.
     * </ul>
     *
     * @return these options
     * @throws IllegalArgumentException with one line that names both values, e.g. {@code drain
     *     delay PT40S must be shorter than the grace period PT5S (app 'orders')}
     */
    public Options validate() {
      if (!drainDelay.isZero() && drainDelay.compareTo(grace) >= 0) {
        throw new IllegalArgumentException(
            "drain delay "
                + drainDelay
                + " must be shorter than the grace period "
                + grace
                + " (app '"
                + name
                + "')");
      }
      return this;
    }

    /** The name and the durations; the sink, the exit codes and the clock are left out. */
    @Override
    public String toString() {
      return "App.Options["
          + name
          + ", grace="
          + grace
          + ", teardownTimeout="
          + teardownTimeout
          + ", killTimeout="
          + killTimeout
          + ", drainDelay="
          + drainDelay
          + "]";
    }

    private static Duration nonNegative(String what, Duration d, String app) {
      Objects.requireNonNull(d, what);
      if (d.isNegative()) {
        throw new IllegalArgumentException(what + " < 0: " + d + " (app '" + app + "')");
      }
      return d;
    }

    /** An unmodifiable copy, in the outcomes' order, after checking each outcome's code. */
    private static Map<Outcome, Integer> exitCodesOf(Map<Outcome, Integer> codes, String app) {
      Objects.requireNonNull(codes, "exitCodes");
      Map<Outcome, Integer> copy = new EnumMap<>(Outcome.class);
      codes.forEach((o, code) -> copy.put(Objects.requireNonNull(o, "exitCodes: outcome"), code));
      for (Outcome o : Outcome.values()) {
        Integer code = copy.get(o);
        if (code == null) {
          throw new IllegalArgumentException(
              "no exit code for " + o + " in " + codes + " (app '" + app + "')");
        }
        if (code < 0 || code > 255) {
          throw new IllegalArgumentException(
              "exit code for " + o + " must be 0..255: " + code + " (app '" + app + "')");
        }
      }
      return Collections.unmodifiableMap(copy);
    }
  }
}
