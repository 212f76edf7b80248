package dev.lifespan.internal;

import dev.lifespan.App;
import dev.lifespan.App.State;
import dev.lifespan.CheckedRunnable;
import dev.lifespan.Lifespan;
import dev.lifespan.ShutdownReport;
import dev.lifespan.SupervisorFailedException;
import dev.lifespan.TaskDump;
import dev.lifespan.TimeSource;
import dev.lifespan.internal.ShutdownState.StopCause;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * <p>State: the lifecycle is one {@link ShutdownState} in {@link #life}, replaced whole and read
 * without locks; each replacement wakes the threads waiting for a change. The scopes a shutdown
 * acts on (the layer starting, {@link #main}, {@link #supervisors}) are published separately; the
 * layer starting is handed over by {@link #startup}. What decides the outcome is recorded in {@link
 * #outcomes}. The JFR phase belongs to the runner thread. No lock is held while printing or calling
 * user code.
 */
public final class AppRunner {
  private final String name;
  private final List<Layers.Layer> layers;
  private final CheckedRunnable body; // null: serve until shutdown
  private final long grace, teardown, kill, drain, interval;
  private final AppContext context;
  private final TimeSource clock;
  private final Timer timer;
  private final Progress progress;
  private final long startedAt; // timer.nanoTime() at creation
  final long createdAt = System.nanoTime(); // for the ages in task dumps

  final Lifecycle life;
  private final ShutdownRequests requests;
  private final AtomicBoolean finishing = new AtomicBoolean();
  volatile boolean printsFailure; // process mode: the failure is printed before the last line

  final StartupHandover startup; // the layer starting, for the first shutdown request
  final Outcomes outcomes; // failures, reports, durable counts: what makes the result
  private volatile ScopeNode main; // the main body's scope while it runs
  private final List<SupervisorImpl> supervisors = new CopyOnWriteArrayList<>(); // open ones

  private volatile Thread thread;
  private volatile ScopeNode root;

  // Runner thread only.
  private SupervisorImpl background;
  private boolean backgroundStopped;
  private Events.Phase jfrPhase;
  private Observers.Phases observedPhases; // null until the first phase, or if none is observed
  private boolean phasesResolved;

  /** A runner for {@code options}, which the caller has validated; not started. */
  public AppRunner(App.Options options, Lifespan lifespan, CheckedRunnable body) {
    this.name = options.name();
    this.layers = Layers.flatten(lifespan);
    this.body = body;
    this.clock = options.clock();
    this.timer = Clocks.timerOf(clock);
    this.grace = Timer.clampOffset(options.grace());
    this.teardown = Timer.clampOffset(options.teardownTimeout());
    this.kill = Timer.clampOffset(options.killTimeout());
    this.drain = Timer.clampOffset(options.drainDelay());
    this.interval = Timer.clampOffset(options.progressInterval());
    this.outcomes = new Outcomes(name, options.exitCodes());
    this.context = new AppContext(name, options.contextPropagators(), options.observers());
    this.startedAt = timer.nanoTime();
    this.progress = new Progress(name, options.progress(), timer, startedAt);
    this.life = new Lifecycle(timer, ShutdownState.starting(startedAt));
    this.startup = new StartupHandover(life);
    this.requests =
        new ShutdownRequests(
            this, timer, this.grace, this.teardown, this.kill, this.drain, this.interval);
  }

  public String name() {
    return name;
  }

  /** The application's context: its values and its public handle. */
  public AppContext context() {
    return context;
  }

  public State state() {
    return life.get().state();
  }

  ShutdownState snapshot() {
    return life.get();
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
    return life.result() != null;
  }

  /** Prints one progress line; dropped once the last line was printed. */
  void print(String line) {
    progress.print(line);
  }

  /** The application's clock. */
  public TimeSource clock() {
    return clock;
  }

  /** Since the application was created, on its clock. */
  public Duration uptime() {
    return Duration.ofNanos(timer.nanoTime() - startedAt);
  }

  /** When the grace period ends (now, once forced); empty before the shutdown began. */
  public Optional<Instant> graceDeadline() {
    ShutdownState s = life.get();
    return s.stopping() ? Optional.of(timer.toInstant(s.graceEnd())) : Optional.empty();
  }

  /** The application's live tree. */
  public TaskDump dump(boolean stacks) {
    return new TaskDump(timer.now(), stacks, List.of(Dumper.of(this, stacks, true)));
  }

  /** The live tree for the give-up line: without the layers' entry sources, which may block. */
  TaskDump dumpGivingUp() {
    return new TaskDump(timer.now(), true, List.of(Dumper.of(this, true, false)));
  }

  // ---- state changes and waiting for them

  private ShutdownState update(UnaryOperator<ShutdownState> change) {
    ShutdownState s = life.update(change);
    return s != null ? s : life.get();
  }

  void awaitChange(ShutdownState seen, long until) {
    life.awaitChange(seen, until);
  }

  public boolean awaitReady() throws InterruptedException {
    life.await(() -> life.readyReached() || life.result() != null, null);
    return life.readyReached();
  }

  /** Waits at most {@code timeout} (null: no limit), on the application's clock, for the result. */
  public Optional<App.Result> await(Duration timeout) throws InterruptedException {
    life.await(() -> life.result() != null, timeout);
    return Optional.ofNullable(life.result());
  }

  void shutdownPhase(String p, String jfrEvent, ScopeNode waitingOn) {
    long now = timer.nanoTime();
    update(s -> s.inPhase(p, now, waitingOn));
    if (jfrEvent != null) {
      jfrPhase = Events.phase(jfrPhase, "app " + name, jfrEvent);
      observePhase(jfrEvent);
    }
    print(p);
  }

  // ---- shutdown requests, from any thread: see ShutdownRequests

  public void requestShutdown() {
    requests.stop(StopCause.REQUESTED);
  }

  /** A signal arrived: SIGINT if {@code interrupt}, else SIGTERM. */
  public void signal(boolean interrupt) {
    requests.signal(interrupt);
  }

  /** For a forced shutdown: the main body's scope and the supervisors still open. */
  List<ScopeNode> forceTargets() {
    List<ScopeNode> targets = new ArrayList<>(supervisors);
    ScopeNode m = main;
    if (m != null) targets.addFirst(m);
    return targets;
  }

  // ---- the runner thread

  /**
   * {@code runFrom(0)} with the context that the thread calling {@link #start()} carries; see
   * {@link Propagation}.
   */
  private Object mainBody;

  /** Starts the runner thread. */
  public void start() {
    mainBody = Propagation.carry(context, (CheckedRunnable) () -> runFrom(0));
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
    ScopeNode r = Scopes.nestedRole("app '" + name + "'", this);
    root = r;
    Roots.appStarted(this);
    try {
      r.runBody(
          x -> {
            background = open(r, name + "/background");
            context.background = background;
            try {
              Propagation.run(mainBody);
            } finally {
              stopBackground();
            }
            return null;
          });
    } catch (Throwable t) {
      outcomes.runnerFailed(t);
    }
    Roots.appEnded(this);
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
    requests.stop(StopCause.FAILURE);
  }

  /** Runs layer {@code i} and everything inside it; the main body if {@code i} is past the last. */
  void runFrom(int i) {
    if (i == layers.size()) runMain();
    else runLayer(i);
  }

  private void runLayer(int i) {
    Layers.Layer layer = layers.get(i);
    LayerContext ctx =
        new LayerContext(this, i, layer, Scopes.nestedRole("layer '" + layer.name() + "'", null));
    ctx.run();
  }

  /** A layer begins to start in scope {@code s}; false if a shutdown was requested before. */
  boolean beginStarting(ScopeNode s, String layerName) {
    if (!startup.begin(s)) return false;
    update(x -> x.inPhase("starting layer '" + layerName + "'", timer.nanoTime(), null));
    print("starting layer '" + layerName + "'");
    return true;
  }

  /** Layer {@code layerName} failed to start with {@code thrown}: one line, then the shutdown. */
  void startupFailed(String layerName, Throwable thrown) {
    outcomes.startupFailed(layerName, thrown);
    String line = "startup failed in layer '" + layerName + "': " + Progress.oneLine(thrown);
    update(x -> x.inPhase("stopping after a failed startup", timer.nanoTime(), null));
    print(line);
    System.getLogger("dev.lifespan")
        .log(
            System.Logger.Level.DEBUG,
            "startup of application '" + name + "' failed in layer '" + layerName + "'",
            thrown);
    requests.stop(StopCause.FAILURE);
  }

  private void runMain() {
    ScopeNode m = Scopes.nested("main", false);
    main = m;
    if (life.get().stopping()) { // the monitor reads main after the request: one sees the other
      main = null;
      return;
    }
    long now = timer.nanoTime();
    update(s -> s.stopping() ? s : s.withState(State.READY).inPhase("running", now, null));
    print("ready in " + Progress.millis(now - startedAt)); // before awaitReady() returns anywhere
    life.ready();
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
      outcomes.mainFailed(thrown);
      print("main body failed: " + thrown);
      requests.stop(StopCause.FAILURE);
    } else {
      requests.stop(StopCause.BODY_ENDED);
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
    observePhase("stop supervisor '" + s.name() + "'");
    List<TaskImpl<?>> tasks = s.running();
    if (!tasks.isEmpty()) print(Progress.stopping(p, tasks, st, now));
    ShutdownReport r;
    try {
      r = s.shutdownOrThrow(st.stopping() ? st.graceEnd() : now);
    } catch (SupervisorFailedException | VirtualMachineError e) {
      outcomes.failed("supervisor '" + s.name() + "'", e);
      r = s.report();
    }
    update(x -> x.inPhase(p, x.phaseSince(), null));
    supervisors.remove(s);
    if (r != null) outcomes.report(r);
    if (r != null && (!tasks.isEmpty() || !r.clean())) print(r.toString());
  }

  /**
   * Ends the current shutdown phase for the observers and begins {@code phase}; the observers are
   * those registered at the first phase. Runner thread only, as the JFR phases.
   */
  private void observePhase(String phase) {
    if (!phasesResolved) {
      phasesResolved = true;
      observedPhases =
          Observers.active == 0
              ? null
              : Observers.Phases.of(
                  context,
                  new dev.lifespan.LifespanObserver.Owner(
                      name, dev.lifespan.LifespanObserver.Owner.Kind.APPLICATION, name),
                  timer);
    }
    if (observedPhases != null) observedPhases.next(phase);
  }

  /** Ends the application with its result, once. */
  void finish(boolean gaveUp) {
    if (!gaveUp) {
      context.end();
      jfrPhase = Events.phase(jfrPhase, "app " + name, null);
      if (observedPhases != null) observedPhases.next(null);
    }
    if (!finishing.compareAndSet(false, true)) return;
    ShutdownState s = life.get();
    long took = s.stopping() ? timer.nanoTime() - s.requestedAt() : 0;
    App.Result res =
        outcomes.result(
            s.stopping() ? s.cause() : null,
            context.uncleanReports,
            gaveUp,
            Duration.ofNanos(took));
    if (printsFailure && res.failure() != null && res.outcome() != App.Outcome.STARTUP_FAILED) {
      print(Progress.failure(res.failure()));
    }
    progress.printLast(Progress.stopped(res));
    life.end(res);
  }

  // ---- process mode

  /** Runs as the process: signal handlers, wait, restore, exit; see {@link Signals#runAndExit}. */
  public void runAndExit() {
    Signals.runAndExit(this);
  }

  /** For the JVM shutdown hook: requests a shutdown. */
  void requestStopForJvmExit() {
    requests.stop(StopCause.JVM_EXIT);
  }
}
