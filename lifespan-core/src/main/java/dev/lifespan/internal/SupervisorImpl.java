package dev.lifespan.internal;

import dev.lifespan.CheckedRunnable;
import dev.lifespan.ScopedRunnable;
import dev.lifespan.ServiceSpec;
import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import dev.lifespan.SupervisorFailedException;
import dev.lifespan.Task;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A supervisor: a scope its tasks run under, that isolates their failures and shuts down in phases.
 *
 * <p>States: {@code RUNNING -> SHUTTING_DOWN -> TERMINATED}, or {@code -> FAILED} on a fatal error
 * or an escalation. {@link #lifecycle} runs the shutdown (see {@link SupervisorShutdown}); its
 * monitor guards the shutdown's progress, the fatal error and the failed forks nobody has taken;
 * user code (the failure handler) is called outside it.
 */
public final class SupervisorImpl extends TaskOwner implements Supervisor {
  private static final System.Logger LOG = System.getLogger("dev.lifespan");

  private final Duration grace;
  final Duration killTimeout;
  private final FailureHandler handler; // null: log

  private volatile State state = State.RUNNING;

  private final SupervisorShutdown lifecycle = new SupervisorShutdown(this);
  private Throwable fatal; // guarded by lifecycle

  /** Told once when the supervisor aborts (fatal error or escalation); set before any task runs. */
  volatile java.util.function.Consumer<SupervisorImpl> onAbort;

  /** Failed forks whose failure no caller has taken yet; guarded by lifecycle. */
  private final java.util.Set<TaskImpl<?>> failedForks = new java.util.LinkedHashSet<>();

  private SupervisorImpl(
      String name,
      ScopeNode parent,
      Timer timer,
      Duration grace,
      Duration killTimeout,
      FailureHandler handler,
      ThreadFactory factory,
      AppContext context) {
    super(name, parent, timer, factory, context);
    this.grace = grace;
    this.killTimeout = killTimeout;
    this.handler = handler;
    Roots.opened(this);
  }

  @Override
  String kind() {
    return "Supervisor";
  }

  private static SupervisorImpl create(Supervisor.Options o) {
    ThreadFrame f = ThreadFrame.current();
    ScopeNode p = f.innermost();
    return new SupervisorImpl(
        o.name(),
        p,
        p != null ? p.timer : f.timer(),
        o.grace(),
        o.killTimeout(),
        o.failureHandler(),
        o.threadFactory(),
        AppContext.current());
  }

  /** Supervisor.open: a supervisor attached to the caller's innermost scope, not entered. */
  public static Supervisor open(Supervisor.Options options) {
    SupervisorImpl s = create(options);
    if (s.parent != null) s.parent.attach(s);
    return s;
  }

  /** Supervisor.run: runs the body inside the supervisor, then shuts it down. */
  public static <X extends Throwable> ShutdownReport run(
      Supervisor.Options options, ScopedRunnable<? super Supervisor, X> body) throws X {
    SupervisorImpl s = create(options);
    s.enter(s.frameOfCaller());
    Throwable thrown = null;
    try {
      body.run(s);
    } catch (Throwable t) {
      thrown = t;
    }
    ShutdownReport r = s.shutdownOnce(s.grace);
    Throwable fatal = s.fatal();
    if (fatal != null) {
      s.leave(null);
      if (thrown != null && !Exceptions.isCancellation(thrown)) fatal.addSuppressed(thrown);
      throw Exceptions.sneaky(fatal);
    }
    s.exit(thrown);
    return r;
  }

  // ---- Supervisor

  @Override
  public State state() {
    return state;
  }

  @Override
  public Task<Void> spawn(String name, CheckedRunnable body) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(body, "body");
    return spawnTask(name, body, false, false);
  }

  @Override
  public <T> Task<T> fork(String name, Callable<? extends T> body) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(body, "body");
    return spawnTask(name, body, false, true);
  }

  @Override
  public Task<Void> spawnMustFinish(String name, CheckedRunnable body) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(body, "body");
    return spawnTask(name, body, true, false);
  }

  @Override
  public Task<Void> startService(ServiceSpec spec) {
    Objects.requireNonNull(spec, "spec");
    CheckedRunnable service =
        () -> {
          try {
            ServiceRunner.run(spec, this::restarting, ThreadLocalRandom.current());
          } catch (RestartIntensityExceeded e) {
            abort(new SupervisorFailedException(name(), e.getMessage(), e.getCause()));
            Scopes.checkpoint(); // the abort cancelled this task: it ends cancelled, reported once
          }
        };
    return spawnTask(spec.name(), service, false, false);
  }

  private void restarting(String service, int attempt, Throwable cause, Duration delay) {
    Observers.Observed[] observers = Observers.active == 0 ? null : Observers.resolve(context);
    if (observers != null) {
      Observers.serviceRestarting(observers, observedAs(), service, attempt, cause, delay);
    }
    LOG.log(
        System.Logger.Level.WARNING,
        "Service '"
            + service
            + "' of supervisor '"
            + name()
            + "' restarting (attempt "
            + attempt
            + ") in "
            + delay.toMillis()
            + " ms after "
            + (cause == null ? "it returned" : "failure: " + cause),
        cause);
  }

  @Override
  public ShutdownReport shutdown(Duration grace) {
    Objects.requireNonNull(grace, "grace");
    if (grace.isNegative()) {
      throw new IllegalArgumentException("grace < 0: " + grace + " (supervisor '" + name() + "')");
    }
    refuseFromOwnTask("shut down");
    return shutdownOrThrow(timer.after(grace));
  }

  /**
   * Shuts down with the grace ending at {@code graceEnd} on this supervisor's timer, then throws
   * what made it fail (an escalation or a fatal error), if anything did.
   */
  ShutdownReport shutdownOrThrow(long graceEnd) {
    ShutdownReport r = lifecycle.runUntil(graceEnd);
    Throwable f = fatal();
    if (f != null) throw Exceptions.sneaky(f);
    return r;
  }

  @Override
  public void close() {
    shutdown(grace);
  }

  @Override
  public void awaitIdle() {
    refuseFromOwnTask("wait until idle");
    Thread me = Thread.currentThread();
    children.addWaiter(me);
    try {
      Waiting.await(() -> children.running() == 0, this);
    } finally {
      children.removeWaiter(me);
    }
  }

  @Override
  public String toString() {
    return "Supervisor[" + name() + ", " + state + ", running=" + children.running() + "]";
  }

  // ---- children

  @Override
  RuntimeException refused(String taskName) {
    return new IllegalStateException(
        "Supervisor '" + name() + "' is " + state + "; cannot spawn task '" + taskName + "'");
  }

  @Override
  void childEnded(TaskImpl<?> t, Throwable failure) {
    try {
      if (failure == null) return;
      if (failure instanceof VirtualMachineError) {
        abort(failure);
      } else if (t.forked && holdForJoiner(t)) {
        // reported to whoever joins, or at shutdown
      } else {
        report(t, failure);
      }
    } finally {
      children.remove(t, null); // after the handler: shutdown waits for it
    }
  }

  /** Keeps a failed fork for a joiner; false if the shutdown is already done (report now). */
  private boolean holdForJoiner(TaskImpl<?> t) {
    synchronized (lifecycle) {
      if (lifecycle.report() != null) return false;
      if (!t.observed) failedForks.add(t); // a joiner may have taken it already
      return true;
    }
  }

  @Override
  void failureTaken(TaskImpl<?> t) {
    synchronized (lifecycle) {
      failedForks.remove(t);
    }
  }

  /** The shutdown began: a running supervisor is shutting down from now on. */
  void shutdownBegan() {
    if (state == State.RUNNING) state = State.SHUTTING_DOWN;
  }

  /** The shutdown ended: the supervisor is terminated, unless it failed. */
  void shutdownEnded() {
    if (state != State.FAILED) state = State.TERMINATED;
  }

  /** At shutdown: reports the failed forks nobody joined, and holds no more of them. */
  void reportHeldForks() {
    List<TaskImpl<?>> unclaimed;
    synchronized (lifecycle) {
      unclaimed = new ArrayList<>(failedForks);
      failedForks.clear();
    }
    for (TaskImpl<?> t : unclaimed) {
      if (!t.observed) report(t, t.failure());
    }
  }

  private void report(TaskImpl<?> t, Throwable failure) {
    try {
      if (handler != null) handler.failed(t, failure);
      else
        LOG.log(
            System.Logger.Level.ERROR,
            "Task '" + t.name() + "' of supervisor '" + name() + "' failed",
            failure);
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      LOG.log(
          System.Logger.Level.ERROR,
          "The failure handler of supervisor '"
              + name()
              + "' threw while reporting task '"
              + t.name()
              + "'",
          e);
    }
  }

  /** Aborts the supervisor: records {@code error}, refuses new tasks, cancels everything. */
  void abort(Throwable error) {
    boolean first;
    synchronized (lifecycle) {
      first = fatal == null;
      if (first) fatal = error;
      else if (fatal != error) fatal.addSuppressed(error);
    }
    state = State.FAILED;
    children.close();
    cancel("supervisor '" + name() + "' aborted: " + error);
    for (TaskImpl<?> t : children.snapshot()) t.cancel("supervisor '" + name() + "' aborted");
    var listener = onAbort;
    if (first && listener != null) listener.accept(this);
  }

  /** The shutdown's report, or null if it has not ended. */
  ShutdownReport report() {
    return lifecycle.report();
  }

  private Throwable fatal() {
    synchronized (lifecycle) {
      return fatal;
    }
  }

  private void refuseFromOwnTask(String what) {
    for (ScopeNode s = Scopes.current(); s != null; s = s.parent) {
      if (s instanceof TaskImpl<?> t && t.owner() == this) {
        throw new IllegalStateException(
            "Supervisor '" + name() + "' cannot " + what + " from its own task '" + t.name() + "'");
      }
    }
  }

  // ---- shutdown

  /** Runs the shutdown once; concurrent and later callers wait for it and get its report. */
  ShutdownReport shutdownOnce(Duration grace) {
    return lifecycle.runUntil(timer.after(grace));
  }

  /** The scope this supervisor was opened in is ending while it is open: shut it down now. */
  void ownerScopeEnded() {
    LOG.log(
        System.Logger.Level.WARNING,
        "Supervisor '"
            + name()
            + "' was still open when the scope it was opened in ended; shutting it down");
    shutdownOnce(Duration.ZERO);
  }

  /**
   * A supervisor outside every scope, whatever the calling thread's scope: the process-wide one.
   */
  static SupervisorImpl openRoot(String name, Duration grace) {
    return new SupervisorImpl(
        name,
        null,
        SystemTimer.INSTANCE,
        grace,
        Supervisor.Options.DEFAULT_KILL_TIMEOUT,
        null,
        null,
        null);
  }

  /**
   * A supervisor of application {@code context}, attached to {@code parent} (a scope of the
   * application runner's thread), openable from any thread.
   */
  static SupervisorImpl openIn(
      ScopeNode parent, AppContext context, String name, Duration grace, Duration kill) {
    SupervisorImpl s =
        new SupervisorImpl(name, parent, parent.timer, grace, kill, null, null, context);
    parent.attach(s);
    return s;
  }

  /** The running tasks, newest first. */
  List<TaskImpl<?>> running() {
    return children.snapshot();
  }
}
