package dev.lifespan.internal;

import dev.lifespan.App;
import dev.lifespan.App.Outcome;
import dev.lifespan.App.State;
import dev.lifespan.CheckedRunnable;
import dev.lifespan.Lifespan;
import dev.lifespan.ShutdownFailedException;
import dev.lifespan.ShutdownReport;
import dev.lifespan.StartupFailedException;
import dev.lifespan.SupervisorFailedException;
import dev.lifespan.TaskDump;
import dev.lifespan.internal.ShutdownState.StopCause;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The application runner behind {@link App}: runs the layers and the main body on its own thread
 * ({@code app '<name>'}), and starts a {@link ShutdownMonitor} with the first shutdown request.
 *
 * <p>Scopes on the runner thread: {@code app} (cancelled, shields included, at the hard deadline)
 * holding the background supervisor; inside it one scope per layer ({@link LayerContext}),
 * cancelled if a shutdown request arrives while that layer starts, holding the layer's supervisor;
 * innermost {@code main} (cancelled by the monitor after the drain delay).
 *
 * <p>State: the lifecycle is one {@link ShutdownState} in {@link #snap}, replaced whole under
 * {@link #writeLock} and read without locks; each replacement wakes the threads in {@link
 * #awaitChange}. The scopes a shutdown acts on ({@link #starting}, {@link #main}, {@link
 * #supervisors}) are published separately; {@link #starting} is handed over under {@link
 * #startLock} so that a layer either sees the request or is cancelled by it, never neither.
 * Failures and the JFR phase belong to the runner thread. No lock is held while printing or calling
 * user code.
 */
public final class AppRunner {
  private final String name;
  private final List<Layers.Layer> layers;
  private final CheckedRunnable body; // null: serve until shutdown
  private final long grace, teardown, kill, drain, interval;
  private final int[] exitCodes;
  private final AppContext context;
  private final Timer timer;
  private final Progress progress;
  private final long startedAt; // timer.nanoTime() at creation
  final long createdAt = System.nanoTime(); // for the ages in task dumps

  private final Object writeLock = new Object();
  private volatile ShutdownState snap;
  private final ConcurrentLinkedQueue<Thread> waiters = new ConcurrentLinkedQueue<>();
  private volatile App.Result result;
  private volatile boolean readyReached;
  private final AtomicBoolean finishing = new AtomicBoolean();

  private final Object startLock = new Object();
  private ScopeNode starting; // guarded by startLock: the scope of the layer starting
  private volatile ScopeNode main; // the main body's scope while it runs
  private final List<SupervisorImpl> supervisors = new CopyOnWriteArrayList<>(); // open ones
  private final List<ShutdownReport> reports = new CopyOnWriteArrayList<>();
  private final List<Throwable> shutdownFailures = new CopyOnWriteArrayList<>();

  private volatile Thread thread;
  private volatile ScopeNode root;

  // Runner thread only.
  private SupervisorImpl background;
  private boolean backgroundStopped;
  private volatile StartupFailedException startupFailure;
  private volatile Throwable mainFailure;
  private Events.Phase jfrPhase;

  public AppRunner(
      String name,
      Lifespan lifespan,
      CheckedRunnable body,
      Timer timer,
      Duration grace,
      Duration teardown,
      Duration kill,
      Duration drain,
      Duration interval,
      Consumer<String> sink,
      int[] exitCodes) {
    this.name = name;
    this.layers = Layers.flatten(lifespan);
    this.body = body;
    this.timer = timer;
    this.grace = Timer.clampOffset(grace);
    this.teardown = Timer.clampOffset(teardown);
    this.kill = Timer.clampOffset(kill);
    this.drain = Timer.clampOffset(drain);
    this.interval = Timer.clampOffset(interval);
    this.exitCodes = exitCodes;
    this.context = new AppContext(name);
    this.startedAt = timer.nanoTime();
    this.progress = new Progress(name, sink, timer, startedAt);
    this.snap = ShutdownState.starting(startedAt);
  }

  public String name() {
    return name;
  }

  /** The application's context: its values and its public handle. */
  public AppContext context() {
    return context;
  }

  public State state() {
    return snap.state();
  }

  ShutdownState snapshot() {
    return snap;
  }

  Thread thread() {
    return thread;
  }

  ScopeNode root() {
    return root;
  }

  ScopeNode mainScope() {
    return main;
  }

  boolean ended() {
    return result != null;
  }

  void print(String line) {
    progress.print(line);
  }

  /** Since the application was created, on its clock. */
  public Duration uptime() {
    return Duration.ofNanos(timer.nanoTime() - startedAt);
  }

  /** When the grace period ends (now, once forced); empty before the shutdown began. */
  public Optional<Instant> graceDeadline() {
    ShutdownState s = snap;
    return s.stopping() ? Optional.of(timer.toInstant(s.graceEnd())) : Optional.empty();
  }

  /** The application's live tree. */
  public TaskDump dump(boolean stacks) {
    return new TaskDump(timer.now(), stacks, List.of(Dumper.of(this, stacks)));
  }

  // ---- state changes and waiting for them

  private ShutdownState update(UnaryOperator<ShutdownState> change) {
    ShutdownState s;
    synchronized (writeLock) {
      s = change.apply(snap);
      snap = s;
    }
    for (Thread t : waiters) LockSupport.unpark(t);
    return s;
  }

  /** Parks until the state is no longer {@code seen}, the application ended, or {@code until}. */
  void awaitChange(ShutdownState seen, long until) {
    Thread me = Thread.currentThread();
    waiters.add(me);
    Timer.Alarm alarm = timer.alarm(until);
    try {
      while (snap == seen && result == null && !alarm.fired()) LockSupport.park(this);
    } finally {
      timer.cancel(alarm);
      waiters.remove(me);
    }
  }

  /** Waits, interruptibly, until {@code done} holds or {@code until} (null: no limit) passes. */
  private boolean await(java.util.function.BooleanSupplier done, Duration until)
      throws InterruptedException {
    Thread me = Thread.currentThread();
    waiters.add(me);
    Timer.Alarm alarm = until == null ? null : timer.alarm(timer.after(until));
    try {
      while (!done.getAsBoolean()) {
        if (alarm != null && alarm.fired()) return false;
        if (Thread.interrupted()) throw new InterruptedException();
        LockSupport.park(this);
      }
      return true;
    } finally {
      if (alarm != null) timer.cancel(alarm);
      waiters.remove(me);
    }
  }

  public boolean awaitReady() throws InterruptedException {
    await(() -> readyReached || result != null, null);
    return readyReached;
  }

  /** Waits at most {@code timeout} (null: no limit), on the application's clock, for the result. */
  public Optional<App.Result> await(Duration timeout) throws InterruptedException {
    await(() -> result != null, timeout);
    return Optional.ofNullable(result);
  }

  void shutdownPhase(String p, String jfrEvent, ScopeNode waitingOn) {
    long now = timer.nanoTime();
    update(s -> s.inPhase(p, now, waitingOn));
    if (jfrEvent != null) jfrPhase = Events.phase(jfrPhase, "app " + name, jfrEvent);
    print(p);
  }

  /** The running tasks below the current phase's scope, or null if it waits for no tasks. */
  List<TaskImpl<?>> waitingFor(ShutdownState s) {
    ScopeNode w = s.waitingOn();
    if (w == null) return null;
    List<TaskImpl<?>> tasks = new ArrayList<>();
    w.walk(
        n -> {
          if (n instanceof TaskImpl<?> t && !t.isDone()) tasks.add(t);
        });
    return tasks;
  }

  // ---- shutdown requests, from any thread

  public void requestShutdown() {
    stop(StopCause.REQUESTED);
  }

  /** A signal arrived: SIGINT if {@code interrupt}, else SIGTERM. */
  public void signal(boolean interrupt) {
    if (result != null) return;
    if (stop(interrupt ? StopCause.SIGINT : StopCause.SIGTERM)) return;
    String sig = interrupt ? "SIGINT" : "SIGTERM";
    ShutdownState s = snap;
    if (interrupt && !s.forced()) {
      print(sig + " received again: forcing the shutdown (must-finish work and shields cancelled)");
      force();
    } else if (interrupt) {
      print(sig + " received a third time: giving up at once");
      update(ShutdownState::withGaveUp);
    } else {
      long now = timer.nanoTime();
      print(
          sig
              + " received again: already shutting down, "
              + Progress.timeLeft(s, now)
              + ", exit in at most "
              + Progress.seconds(Math.max(0, s.giveUpAt() - now))
              + "; a second SIGINT forces");
    }
  }

  /** Starts the shutdown if it has not started; returns whether this call started it. */
  private boolean stop(StopCause why) {
    long now = timer.nanoTime();
    ShutdownState s;
    synchronized (writeLock) {
      if (snap.stopping() || result != null) return false;
      s = snap.stop(why, now, grace, teardown, kill);
      snap = s;
    }
    for (Thread t : waiters) LockSupport.unpark(t);
    boolean drains = drain > 0 && why.external() && main != null;
    print(
        why.announcement
            + ": shutting down; readiness DRAINING; grace "
            + Progress.seconds(grace)
            + (drains ? " (drain delay " + Progress.seconds(drain) + " included)" : "")
            + ", hard deadline in "
            + Progress.seconds(s.hardDeadline() - now)
            + ", exit in at most "
            + Progress.seconds(s.giveUpAt() - now));
    synchronized (startLock) {
      if (starting != null) starting.cancel("shutdown requested during startup");
    }
    Thread.ofPlatform()
        .daemon()
        .name("app '" + name + "' shutdown")
        .start(new ShutdownMonitor(this, timer, drain, interval));
    return true;
  }

  /** Second SIGINT: cancels must-finish work and shields now; one kill timeout for the rest. */
  private void force() {
    long now = timer.nanoTime();
    synchronized (writeLock) {
      if (snap.forced()) return;
      snap = snap.force(now);
    }
    for (Thread t : waiters) LockSupport.unpark(t);
    ScopeNode m = main;
    if (m != null) m.forceCancel("shutdown forced");
    for (SupervisorImpl s : supervisors) s.forceCancel("shutdown forced");
  }

  /** For the monitor: the hard deadline passed; cancel everything, shields included. */
  void hardDeadlineReached() {
    update(ShutdownState::withHardReached);
    print("hard deadline reached: cancelling everything still running, shields included");
    ScopeNode r = root;
    if (r != null) r.forceCancel("hard deadline of application '" + name + "'");
  }

  /** For the monitor: gives up waiting; prints what still runs and ends with the result so far. */
  void abandon() {
    Thread t = thread;
    StringBuilder sb =
        new StringBuilder("giving up: the application has not ended; still running:");
    sb.append("\n").append(dump(true).toText().stripTrailing().indent(2).stripTrailing());
    if (t != null && t.isAlive()) {
      sb.append("\n  runner thread '").append(t.getName()).append("' (").append(snap.phase());
      sb.append(")");
      for (StackTraceElement e : t.getStackTrace()) sb.append("\n      at ").append(e);
    }
    print(sb.toString());
    finish(true);
  }

  // ---- the runner thread

  /** Starts the runner thread. */
  public void start() {
    Thread t =
        Thread.ofPlatform()
            .name("app '" + name + "'")
            .unstarted(
                () ->
                    ScopedValue.where(AppContext.CURRENT, context)
                        .run(
                            () ->
                                ThreadFrame.withTimer(
                                    timer,
                                    x -> {
                                      run();
                                      return null;
                                    })));
    thread = t;
    t.start();
  }

  private void run() {
    ScopeNode r = ScopeNode.nested("app '" + name + "'", false);
    root = r;
    Roots.appStarted(r, this);
    try {
      r.runBody(
          x -> {
            background = open(r, name + "/background");
            context.background = background;
            try {
              runFrom(0);
            } finally {
              stopBackground();
            }
            return null;
          });
    } catch (Throwable t) {
      shutdownFailures.add(t); // cannot happen unless the runner itself failed
    }
    Roots.appEnded(r);
    finish(false);
  }

  SupervisorImpl open(ScopeNode parent, String supName) {
    SupervisorImpl s =
        SupervisorImpl.openIn(
            parent, context, supName, Duration.ofNanos(grace), Duration.ofNanos(kill));
    s.onAbort = this::supervisorAborted;
    supervisors.add(s);
    return s;
  }

  private void supervisorAborted(SupervisorImpl s) {
    print("supervisor '" + s.name() + "' failed; stopping the application");
    stop(StopCause.FAILURE);
  }

  /** Runs layer {@code i} and everything inside it; the main body if {@code i} is past the last. */
  void runFrom(int i) {
    if (i == layers.size()) runMain();
    else runLayer(i);
  }

  /** For {@link LayerContext#proceed()}: false if a shutdown request cancelled the startup. */
  boolean layerStarted(ScopeNode s) {
    synchronized (startLock) {
      if (starting == s) starting = null;
      return !s.isCancelCalled();
    }
  }

  private void runLayer(int i) {
    Layers.Layer layer = layers.get(i);
    ScopeNode s = ScopeNode.nested("layer '" + layer.name() + "'", false);
    LayerContext ctx = new LayerContext(this, i, layer.name(), s);
    synchronized (startLock) {
      if (snap.stopping()) return; // shutdown requested before this layer started
      starting = s;
    }
    update(x -> x.inPhase("starting layer '" + layer.name() + "'", timer.nanoTime(), null));
    print("starting layer '" + layer.name() + "'");
    Roots.layerStarted(s, layer.name());
    Throwable thrown = null;
    try {
      s.runBody(
          x -> {
            try {
              layer.body().run(ctx);
            } finally {
              ctx.returned();
            }
            return null;
          });
    } catch (Throwable t) {
      thrown = t;
    }
    Roots.layerEnded(s);
    synchronized (startLock) {
      if (starting == s) starting = null;
    }
    if (!ctx.proceeded) {
      boolean cancelled =
          s.isCancelCalled() && (thrown == null || ScopeNode.isCancellation(thrown));
      if (cancelled) {
        print("startup of layer '" + layer.name() + "' cancelled");
      } else {
        if (thrown == null) {
          thrown =
              new IllegalStateException(
                  "Lifespan layer '" + layer.name() + "' returned without calling proceed()");
        }
        startupFailure = new StartupFailedException(name, layer.name(), thrown);
        print("startup failed in layer '" + layer.name() + "': " + Progress.oneLine(thrown));
        System.getLogger("dev.lifespan")
            .log(
                System.Logger.Level.DEBUG,
                "startup of application '" + name + "' failed in layer '" + layer.name() + "'",
                thrown);
        stop(StopCause.FAILURE);
      }
    } else {
      if (thrown != null && thrown != ctx.misuse) failed("layer '" + layer.name() + "'", thrown);
      print(
          "layer '"
              + layer.name()
              + "' torn down"
              + (thrown != null ? " with a failure: " + thrown : ""));
    }
  }

  private void runMain() {
    ScopeNode m = ScopeNode.nested("main", false);
    main = m;
    if (snap.stopping()) { // the monitor reads main after the request: one of us sees the other
      main = null;
      return;
    }
    long now = timer.nanoTime();
    update(s -> s.stopping() ? s : s.withState(State.READY).inPhase("running", now, null));
    readyReached = true;
    for (Thread t : waiters) LockSupport.unpark(t);
    print("ready in " + Progress.millis(System.nanoTime() - createdAt));
    Throwable thrown = null;
    try {
      m.runBody(
          x -> {
            if (body != null) body.run();
            else Waiting.await(() -> false, "a shutdown request");
            return null;
          });
    } catch (Throwable t) {
      thrown = t;
    }
    main = null;
    if (thrown != null) {
      mainFailure = thrown;
      print("main body failed: " + thrown);
      stop(StopCause.FAILURE);
    } else {
      stop(StopCause.BODY_ENDED);
    }
  }

  /** Innermost first: the application's background work stops before any layer tears down. */
  void stopBackground() {
    if (backgroundStopped) return;
    backgroundStopped = true;
    stopSupervisor(background);
  }

  void stopSupervisor(SupervisorImpl s) {
    String p = "stopping supervisor '" + s.name() + "'";
    long now = timer.nanoTime();
    ShutdownState st = update(x -> x.inPhase(p, now, s));
    jfrPhase = Events.phase(jfrPhase, "app " + name, "stop supervisor '" + s.name() + "'");
    List<TaskImpl<?>> tasks = s.running();
    if (!tasks.isEmpty()) print(Progress.stopping(p, tasks, st, now));
    ShutdownReport r;
    try {
      r = s.shutdownOrThrow(st.stopping() ? st.graceEnd() : now);
    } catch (SupervisorFailedException | VirtualMachineError e) {
      failed("supervisor '" + s.name() + "'", e);
      r = s.report();
    }
    update(x -> x.inPhase(p, x.phaseSince(), null));
    supervisors.remove(s);
    if (r != null) reports.add(r);
    if (r != null && (!tasks.isEmpty() || !r.clean())) print(r.toString());
  }

  void failed(String where, Throwable t) {
    shutdownFailures.add(new ShutdownFailedException(name, where, t));
  }

  /** Ends the application with its result, once. */
  private void finish(boolean gaveUp) {
    if (!gaveUp) {
      context.end();
      jfrPhase = Events.phase(jfrPhase, "app " + name, null);
    }
    if (!finishing.compareAndSet(false, true)) return;
    ShutdownState s = snap;
    List<ShutdownReport> done = List.copyOf(reports);
    List<Throwable> later = new ArrayList<>(shutdownFailures);
    Throwable failure = startupFailure != null ? startupFailure : mainFailure;
    if (failure == null && !later.isEmpty()) failure = later.removeFirst();
    Outcome o;
    if (startupFailure != null) o = Outcome.STARTUP_FAILED;
    else if (failure != null) o = Outcome.FAILED;
    else if (gaveUp || done.stream().anyMatch(r -> !r.clean())) o = Outcome.WORK_ABANDONED;
    else o = s.stopping() ? s.cause().cleanOutcome() : Outcome.SUCCEEDED;
    if (failure != null) {
      for (Throwable t : later) {
        if (t != failure) failure.addSuppressed(t);
      }
    }
    long took = s.stopping() ? timer.nanoTime() - s.requestedAt() : 0;
    App.Result res =
        new App.Result(
            name, o, exitCodes[o.ordinal()], failure, done, Duration.ofNanos(took), gaveUp);
    print(Progress.stopped(res));
    synchronized (writeLock) {
      result = res;
      snap = snap.withState(State.STOPPED);
    }
    for (Thread t : waiters) LockSupport.unpark(t);
  }

  // ---- process mode

  /** Runs as the process: signal handlers, wait, restore, exit. */
  public void runAndExit() {
    Signals signals = Signals.install(this);
    start();
    App.Result r;
    boolean interrupted = false;
    while (true) {
      try {
        r = await(null).orElseThrow();
        break;
      } catch (InterruptedException e) {
        if (!interrupted) signal(false);
        interrupted = true;
      }
    }
    boolean jvmExiting = signals.close();
    if (r.failure() != null && r.outcome() != Outcome.STARTUP_FAILED) {
      var w = new java.io.StringWriter();
      r.failure().printStackTrace(new java.io.PrintWriter(w));
      print("failure:\n" + w.toString().stripTrailing());
    }
    if (interrupted) Thread.currentThread().interrupt();
    if (!jvmExiting) System.exit(r.exitCode());
  }

  /** For the JVM shutdown hook: requests a shutdown and waits until the runner is done. */
  void stopForJvmExit() {
    stop(StopCause.JVM_EXIT);
    boolean interrupted = false;
    while (result == null) {
      try {
        await(null);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
  }
}
