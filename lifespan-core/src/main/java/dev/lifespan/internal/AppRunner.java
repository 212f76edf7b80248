package dev.lifespan.internal;

import dev.lifespan.App;
import dev.lifespan.App.Outcome;
import dev.lifespan.App.State;
import dev.lifespan.CheckedRunnable;
import dev.lifespan.Lifespan;
import dev.lifespan.ShutdownFailedException;
import dev.lifespan.ShutdownReport;
import dev.lifespan.StartupFailedException;
import dev.lifespan.Supervisor;
import dev.lifespan.SupervisorFailedException;
import dev.lifespan.TaskDump;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The application runner behind {@link App}: runs the layers and the main body on its own thread,
 * and the shutdown's clock (drain delay, progress, hard deadline, giving up) on a monitor thread
 * started by the first shutdown request.
 *
 * <p>Scopes on the runner thread: {@code app} (cancelled, shields included, at the hard deadline)
 * holding the background supervisor; inside it one scope per layer (cancelled if a shutdown request
 * arrives while that layer starts) holding the layer's supervisor; innermost {@code main}
 * (cancelled by the shutdown request, after the drain delay).
 *
 * <p>{@link #lock} guards the shutdown's state: the cause, the layer starting, the main scope, the
 * hard deadline, the supervisors to force and the result. The runner thread alone touches the
 * failures and the progress phase it publishes; the monitor reads the phase.
 */
public final class AppRunner {
  private static final int INT = 1, TERM = 2, REQUESTED = 3, BODY_ENDED = 4, FAILURE = 5;

  private final String name;
  private final List<Layers.Layer> layers;
  private final CheckedRunnable body; // null: serve until shutdown
  private final long grace, teardown, kill, drain, interval;
  private final Consumer<String> sink;
  private final int[] exitCodes;
  private final AppContext context;
  private final Object printLock = new Object();

  private final Object lock = new Object();
  private volatile State state = State.STARTING;
  private int cause; // guarded by lock; 0 until a shutdown request
  private long stopAt; // guarded by lock; nanoTime of the request
  private long hardDeadline; // guarded by lock
  private int interrupts; // guarded by lock: SIGINTs received
  private boolean forced; // guarded by lock
  private boolean gaveUp; // guarded by lock
  private ScopeNode starting; // guarded by lock: the scope of the layer starting
  private ScopeNode main; // guarded by lock: the main body's scope while it runs
  private final List<SupervisorImpl> supervisors = new ArrayList<>(); // guarded by lock
  private final List<ShutdownReport> reports = new ArrayList<>(); // guarded by lock
  private App.Result result; // guarded by lock
  private boolean finishing; // guarded by lock: the result is being made
  private Thread monitor; // guarded by lock

  private volatile Thread thread;
  private volatile ScopeNode root;
  final long createdAt = System.nanoTime();

  // Runner thread only.
  private SupervisorImpl background;
  private boolean backgroundStopped;
  private StartupFailedException startupFailure;
  private Throwable mainFailure;
  private final List<Throwable> shutdownFailures = new ArrayList<>();

  /** What the runner is doing, for progress lines; written by the runner thread. */
  private volatile String phase = "starting";

  /** The JFR event of the shutdown phase in progress; runner thread only. */
  private Events.Phase jfrPhase;

  /** When {@link #phase} last changed, {@link System#nanoTime()}; the monitor repeats from it. */
  private volatile long phaseSince;

  /** Runner thread: enters shutdown phase {@code p} (progress text and JFR event). */
  private void shutdownPhase(String p, String event) {
    phaseSince = System.nanoTime();
    phase = p;
    jfrPhase = Events.phase(jfrPhase, "app " + name, event);
  }

  /** What the current phase waits for, if anything: a supervisor or the main scope. */
  private volatile ScopeNode waitingOn;

  public AppRunner(
      String name,
      Lifespan lifespan,
      CheckedRunnable body,
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
    this.grace = Timer.saturatedNanos(grace);
    this.teardown = Timer.saturatedNanos(teardown);
    this.kill = Timer.saturatedNanos(kill);
    this.drain = Timer.saturatedNanos(drain);
    this.interval = Timer.saturatedNanos(interval);
    this.sink = sink;
    this.exitCodes = exitCodes;
    this.context = new AppContext(name);
  }

  public String name() {
    return name;
  }

  /** The application's context: its values and its public handle. */
  public AppContext context() {
    return context;
  }

  /**
   * When the shutdown's grace period ends (now, if the shutdown was forced); empty before the
   * shutdown began.
   */
  public Optional<Instant> graceDeadline() {
    long end;
    synchronized (lock) {
      if (cause == 0) return Optional.empty();
      end = forced ? System.nanoTime() : Timer.saturatedAdd(stopAt, grace);
    }
    return Optional.of(Instant.now().plusNanos(end - System.nanoTime()));
  }

  /** The root scope of the runner thread, or null before it started. */
  ScopeNode root() {
    return root;
  }

  public State state() {
    return state;
  }

  // ---- starting and waiting

  /** Starts the runner thread. */
  public void start() {
    Thread t =
        Thread.ofPlatform()
            .name("app '" + name + "'")
            .unstarted(() -> ScopedValue.where(AppContext.CURRENT, context).run(this::run));
    thread = t;
    t.start();
  }

  public boolean awaitReady() throws InterruptedException {
    synchronized (lock) {
      while (!readyReached && result == null) lock.wait();
      return readyReached;
    }
  }

  private boolean readyReached; // guarded by lock

  /** Waits for the result; {@code timeoutNanos} negative for no limit. */
  /** Waits at most {@code timeout} (null: no limit) for the result. */
  public Optional<App.Result> await(Duration timeout) throws InterruptedException {
    return await(timeout == null ? -1 : Timer.saturatedNanos(timeout));
  }

  private Optional<App.Result> await(long timeoutNanos) throws InterruptedException {
    long deadline = System.nanoTime() + Math.max(0, timeoutNanos);
    synchronized (lock) {
      while (result == null) {
        if (timeoutNanos < 0) {
          lock.wait();
        } else {
          long left = deadline - System.nanoTime();
          if (left <= 0) return Optional.empty();
          lock.wait(left / 1_000_000, (int) (left % 1_000_000));
        }
      }
      return Optional.of(result);
    }
  }

  /** The application's live tree. */
  public TaskDump dump(boolean stacks) {
    ScopeNode r = root;
    return new TaskDump(Instant.now(), stacks, List.of(Dumper.of(this, stacks)));
  }

  // ---- shutdown requests, from any thread

  public void requestShutdown() {
    stop(REQUESTED, null);
  }

  /** A signal arrived: SIGINT if {@code interrupt}, else SIGTERM. */
  public void signal(boolean interrupt) {
    String sig = interrupt ? "SIGINT" : "SIGTERM";
    boolean force = false, giveUp = false;
    long left;
    synchronized (lock) {
      if (result != null) return;
      if (interrupt) interrupts++;
      if (cause == 0) {
        // first request: below
      } else if (interrupt && !forced) {
        force = true;
      } else if (interrupt) {
        giveUp = true;
      }
      left = cause == 0 ? 0 : hardDeadline - System.nanoTime();
    }
    if (force) {
      print(sig + " received again: forcing the shutdown (must-finish work is cancelled)");
      force();
    } else if (giveUp) {
      print(sig + " received a third time: giving up at once");
      giveUp();
    } else if (!stop(interrupt ? INT : TERM, sig + " received")) {
      print(
          sig
              + " received: already shutting down, at most "
              + seconds(Math.max(0, left) + kill)
              + " left; a second SIGINT forces");
    }
  }

  /**
   * Starts the shutdown if it has not started; returns whether this call started it. A layer still
   * starting is cancelled at once; the main body after the drain delay, by the monitor.
   */
  private boolean stop(int why, String announce) {
    ScopeNode cancelNow;
    long now = System.nanoTime();
    synchronized (lock) {
      if (cause != 0 || result != null) return false;
      cause = why;
      stopAt = now;
      hardDeadline = Timer.saturatedAdd(now, Timer.saturatedAdd(grace, teardown));
      if (state != State.STOPPED) state = State.DRAINING;
      cancelNow = starting;
      lock.notifyAll();
    }
    String what =
        switch (why) {
          case INT, TERM -> announce;
          case REQUESTED -> "shutdown requested";
          case BODY_ENDED -> "main body ended";
          default -> "a failure stops the application";
        };
    print(
        what
            + ": shutting down; readiness DRAINING; grace "
            + seconds(grace)
            + ", hard deadline in "
            + seconds(Timer.saturatedAdd(grace, teardown)));
    if (cancelNow != null) cancelNow.cancel("shutdown requested during startup");
    Thread m =
        Thread.ofPlatform().daemon().name("app '" + name + "' shutdown").unstarted(this::watch);
    synchronized (lock) {
      monitor = m;
    }
    m.start();
    return true;
  }

  /** Second SIGINT: cancels must-finish work and shields now; short budget for the rest. */
  private void force() {
    List<ScopeNode> targets = new ArrayList<>();
    synchronized (lock) {
      if (forced) return;
      forced = true;
      hardDeadline = Math.min(hardDeadline, Timer.saturatedAdd(System.nanoTime(), kill));
      if (main != null) targets.add(main);
      targets.addAll(supervisors);
      lock.notifyAll();
    }
    for (ScopeNode s : targets) s.forceCancel("shutdown forced");
  }

  private void giveUp() {
    synchronized (lock) {
      if (gaveUp || result != null) return;
      gaveUp = true;
      lock.notifyAll();
    }
  }

  // ---- the monitor: drain delay, progress, hard deadline, giving up

  private void watch() {
    ScopeNode m;
    synchronized (lock) {
      m = main;
    }
    long start;
    synchronized (lock) {
      start = stopAt;
    }
    if (m != null && drain > 0) {
      print("draining for " + seconds(drain) + " before stopping the main body");
      waitUntil(Timer.saturatedAdd(start, drain));
    }
    synchronized (lock) {
      m = main;
    }
    if (m != null) {
      waitingOn = m;
      phaseSince = System.nanoTime();
      phase = "stopping the main body";
      print(phase);
      m.cancel("application '" + name + "' is shutting down");
    }
    boolean hardFired = false;
    long giveUpAt = Long.MAX_VALUE;
    String lastPhase = null;
    long lastPrint = System.nanoTime();
    while (true) {
      long hard;
      boolean quit;
      synchronized (lock) {
        if (result != null) return;
        hard = hardDeadline;
        quit = gaveUp;
      }
      long now = System.nanoTime();
      if (!hardFired && now - hard >= 0) {
        hardFired = true;
        giveUpAt = Timer.saturatedAdd(now, kill);
        print("hard deadline reached: cancelling everything still running, shields included");
        ScopeNode r = root;
        if (r != null) r.forceCancel("hard deadline of application '" + name + "'");
      }
      if (quit || now - giveUpAt >= 0) {
        abandon();
        return;
      }
      String p = phase;
      if (!p.equals(lastPhase)) {
        lastPhase = p;
        lastPrint = phaseSince; // the runner printed the phase when it began
      }
      if (now - lastPrint >= interval) {
        lastPrint = now;
        print(progressLine(p, now));
      }
      long next = Math.min(lastPrint + interval, hardFired ? giveUpAt : hard);
      waitUntil(next);
    }
  }

  /** Waits on the lock until {@code deadline}, a result, a force or giving up. */
  private void waitUntil(long deadline) {
    synchronized (lock) {
      boolean wasForced = forced;
      while (result == null && !gaveUp && forced == wasForced) {
        long left = deadline - System.nanoTime();
        if (left <= 0) return;
        try {
          lock.wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          return; // nobody interrupts the monitor; end the wait
        }
      }
    }
  }

  private String progressLine(String p, long now) {
    StringBuilder sb = new StringBuilder(p);
    ScopeNode w = waitingOn;
    if (w != null) {
      List<TaskImpl<?>> tasks = new ArrayList<>();
      w.walk(
          n -> {
            if (n instanceof TaskImpl<?> t && !t.isDone()) tasks.add(t);
          });
      long mustFinish = tasks.stream().filter(t -> t.shield).count();
      sb.append(": waiting for ")
          .append(tasks.size())
          .append(tasks.size() == 1 ? " task" : " tasks");
      if (mustFinish > 0) sb.append(" (").append(mustFinish).append(" must-finish)");
      appendNames(sb, tasks);
    }
    long graceEnd, hard;
    boolean f;
    synchronized (lock) {
      graceEnd = Timer.saturatedAdd(stopAt, grace);
      hard = hardDeadline;
      f = forced;
    }
    if (!f && graceEnd - now > 0) {
      sb.append("; ").append(seconds(graceEnd - now)).append(" of grace left");
    } else {
      sb.append("; ").append(seconds(Math.max(0, hard - now))).append(" to the hard deadline");
    }
    return sb.toString();
  }

  /** Gives up waiting: prints what still runs and ends with the result so far. */
  private void abandon() {
    Thread t = thread;
    StringBuilder sb =
        new StringBuilder("giving up: the application has not ended; still running:");
    sb.append("\n").append(dump(true).toText().stripTrailing().indent(2).stripTrailing());
    if (t != null && t.isAlive()) {
      sb.append("\n  runner thread '").append(t.getName()).append("' (").append(phase).append(")");
      for (StackTraceElement e : t.getStackTrace()) sb.append("\n      at ").append(e);
    }
    print(sb.toString());
    finish(true);
  }

  // ---- the runner thread

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

  private SupervisorImpl open(ScopeNode parent, String supName) {
    SupervisorImpl s =
        SupervisorImpl.openIn(
            parent, context, supName, Duration.ofNanos(grace), Duration.ofNanos(kill));
    s.onAbort = this::supervisorAborted;
    synchronized (lock) {
      supervisors.add(s);
    }
    return s;
  }

  private void supervisorAborted(SupervisorImpl s) {
    print("supervisor '" + s.name() + "' failed; stopping the application");
    stop(FAILURE, null);
  }

  /** Runs layer {@code i} and everything inside it; the main body if {@code i} is past the last. */
  void runFrom(int i) {
    if (i == layers.size()) runMain();
    else runLayer(i);
  }

  private void runLayer(int i) {
    Layers.Layer layer = layers.get(i);
    ScopeNode s = ScopeNode.nested("layer '" + layer.name() + "'", false);
    LayerContext ctx = new LayerContext(i, layer.name(), s);
    synchronized (lock) {
      if (cause != 0) return; // shutdown requested before this layer started
      starting = s;
    }
    phase = "starting layer '" + layer.name() + "'";
    print(phase);
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
    synchronized (lock) {
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
        print("startup failed in layer '" + layer.name() + "': " + thrown);
        stop(FAILURE, null);
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
    long readyAfter;
    synchronized (lock) {
      if (cause != 0) return;
      main = m;
      state = State.READY;
      readyReached = true;
      lock.notifyAll();
      readyAfter = System.nanoTime() - createdAt;
    }
    phase = "running";
    print("ready in " + millis(readyAfter));
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
    synchronized (lock) {
      main = null;
    }
    waitingOn = null;
    if (thrown != null) {
      mainFailure = thrown;
      print("main body failed: " + thrown);
      stop(FAILURE, null);
    } else {
      stop(BODY_ENDED, null);
    }
  }

  /** Innermost first: the application's background work stops before any layer tears down. */
  private void stopBackground() {
    if (backgroundStopped) return;
    backgroundStopped = true;
    stopSupervisor(background);
  }

  private void stopSupervisor(SupervisorImpl s) {
    shutdownPhase("stopping supervisor '" + s.name() + "'", "stop supervisor '" + s.name() + "'");
    waitingOn = s;
    List<TaskImpl<?>> tasks = s.running();
    int running = tasks.size();
    if (running > 0) print(stoppingLine(tasks));
    ShutdownReport r;
    try {
      r = s.shutdown(Duration.ofNanos(graceLeft()));
    } catch (SupervisorFailedException | VirtualMachineError e) {
      failed("supervisor '" + s.name() + "'", e);
      r = s.report();
    } finally {
      waitingOn = null;
    }
    synchronized (lock) {
      supervisors.remove(s);
      if (r != null) reports.add(r);
    }
    if (r != null && (running > 0 || !r.clean())) print(r.toString());
  }

  /** The first line of a supervisor's stop: what is cancelled and what is waited for. */
  private String stoppingLine(List<TaskImpl<?>> tasks) {
    List<TaskImpl<?>> mustFinish = tasks.stream().filter(t -> t.shield).toList();
    long ordinary = tasks.size() - mustFinish.size();
    StringBuilder sb = new StringBuilder(phase).append(": ");
    if (ordinary > 0) {
      sb.append("cancelling ").append(ordinary).append(ordinary == 1 ? " task" : " tasks");
      if (!mustFinish.isEmpty()) sb.append(", ");
    }
    if (!mustFinish.isEmpty()) {
      sb.append("waiting for ").append(mustFinish.size()).append(" must-finish");
      appendNames(sb, mustFinish);
      sb.append("; ").append(seconds(graceLeft())).append(" of grace left");
    }
    return sb.toString();
  }

  private static void appendNames(StringBuilder sb, List<TaskImpl<?>> tasks) {
    int shown = 0;
    for (TaskImpl<?> t : tasks) {
      sb.append(shown == 0 ? ": '" : ", '").append(t.name()).append('\'');
      if (++shown == 5) break;
    }
    if (tasks.size() > shown) sb.append(", +").append(tasks.size() - shown).append(" more");
  }

  private long graceLeft() {
    synchronized (lock) {
      if (cause == 0 || forced) return 0;
      return Math.max(0, Timer.saturatedAdd(stopAt, grace) - System.nanoTime());
    }
  }

  private void failed(String where, Throwable t) {
    shutdownFailures.add(new ShutdownFailedException(name, where, t));
  }

  /** Ends the application with its result, once. */
  private void finish(boolean abandoned) {
    if (!abandoned) {
      context.end();
      jfrPhase = Events.phase(jfrPhase, "app " + name, null);
    }
    App.Result res;
    synchronized (lock) {
      if (finishing) return;
      finishing = true;
      Throwable failure;
      Outcome o;
      List<Throwable> later = new ArrayList<>(shutdownFailures);
      if (startupFailure != null) {
        o = Outcome.STARTUP_FAILED;
        failure = startupFailure;
      } else if (mainFailure != null) {
        o = Outcome.FAILED;
        failure = mainFailure;
      } else if (!later.isEmpty()) {
        o = Outcome.FAILED;
        failure = later.removeFirst();
      } else if (abandoned || reports.stream().anyMatch(r -> !r.clean())) {
        o = Outcome.WORK_ABANDONED;
        failure = null;
      } else {
        o =
            switch (cause) {
              case INT -> Outcome.INTERRUPTED;
              case TERM -> Outcome.TERMINATED;
              default -> Outcome.SUCCEEDED;
            };
        failure = null;
      }
      if (failure != null) {
        for (Throwable t : later) {
          if (t != failure) failure.addSuppressed(t);
        }
      }
      long took = cause == 0 ? 0 : System.nanoTime() - stopAt;
      res =
          new App.Result(
              name, o, exitCodes[o.ordinal()], failure, reports, Duration.ofNanos(took), abandoned);
    }
    print(
        "stopped"
            + (res.shutdownTime().isZero()
                ? ""
                : " " + millis(res.shutdownTime().toNanos()) + " after the shutdown request")
            + ": "
            + res.outcome()
            + ", exit code "
            + res.exitCode()
            + (abandoned ? " (gave up waiting)" : ""));
    synchronized (lock) {
      result = res;
      state = State.STOPPED;
      lock.notifyAll();
    }
  }

  // ---- process mode

  /** Runs as the process: signal handlers, wait, restore, exit. */
  public void runAndExit() {
    Signals signals = Signals.install(this);
    start();
    App.Result r;
    try {
      r = await(-1).orElseThrow();
    } catch (InterruptedException e) {
      signal(false);
      r = awaitUninterruptibly();
    }
    boolean jvmExiting = signals.close();
    if (r.failure() != null) {
      var w = new java.io.StringWriter();
      r.failure().printStackTrace(new java.io.PrintWriter(w));
      print("failure:\n" + w.toString().stripTrailing());
    }
    if (!jvmExiting) System.exit(r.exitCode());
  }

  private App.Result awaitUninterruptibly() {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return await(-1).orElseThrow();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) Thread.currentThread().interrupt();
    }
  }

  /** For the JVM shutdown hook: requests a shutdown and waits until the runner is done. */
  void stopForJvmExit() {
    if (!stop(TERM, "JVM shutting down")) {
      // already stopping
    }
    awaitUninterruptibly();
  }

  // ---- output

  void print(String line) {
    String out = "lifespan [" + name + "] " + line;
    synchronized (printLock) {
      if (sink != null) {
        try {
          sink.accept(out);
        } catch (RuntimeException e) {
          System.err.println(out);
        }
      } else {
        System.err.println(out);
      }
    }
  }

  /**
   * {@code nanos} as seconds with one decimal ("12.3 s"), rounded half up. Integer arithmetic, not
   * {@code String.format}: the first format call in a JVM loads some 90 classes (about 20 ms), and
   * the first shutdown line is often the first formatted text of an idle service.
   */
  static String seconds(long nanos) {
    long tenths = Math.round(nanos / 1e8);
    long abs = Math.abs(tenths);
    return (tenths < 0 ? "-" : "") + abs / 10 + "." + abs % 10 + " s";
  }

  private static String millis(long nanos) {
    return (nanos / 1_000_000) + " ms";
  }

  // ---- the layers' view

  /** {@link Lifespan.Context} of one layer. */
  private final class LayerContext implements Lifespan.Context {
    private final int index;
    private final String layerName;
    private final ScopeNode scope;
    boolean proceeded; // runner thread
    private boolean returned; // guarded by AppRunner.this.lock
    private SupervisorImpl supervisor; // guarded by AppRunner.this.lock
    private boolean supervisorStopped; // guarded by AppRunner.this.lock
    Throwable misuse; // runner thread: the misuse error already reported

    LayerContext(int index, String layerName, ScopeNode scope) {
      this.index = index;
      this.layerName = layerName;
      this.scope = scope;
    }

    @Override
    public String name() {
      return layerName;
    }

    @Override
    public String applicationName() {
      return name;
    }

    @Override
    public void proceed() {
      if (Thread.currentThread() != thread) {
        throw new IllegalStateException(
            "Lifespan layer '"
                + layerName
                + "' must call proceed() on the thread running it ('"
                + thread.getName()
                + "'), not on '"
                + Thread.currentThread().getName()
                + "'");
      }
      if (proceeded || returnedNow()) {
        IllegalStateException e =
            new IllegalStateException(
                "Lifespan layer '"
                    + layerName
                    + "' called proceed() "
                    + (proceeded ? "twice" : "after it returned"));
        if (misuse == null) {
          misuse = e;
          failed("layer '" + layerName + "'", e);
        }
        throw e;
      }
      boolean cancelled;
      synchronized (lock) {
        cancelled = scope.isCancelCalled();
        if (!cancelled && starting == scope) starting = null;
      }
      if (cancelled) {
        ScopeNode.checkpoint();
        throw scope.cancelledException();
      }
      proceeded = true;
      print("layer '" + layerName + "' started");
      runFrom(index + 1);
      stopBackground();
      SupervisorImpl s;
      synchronized (lock) {
        s = supervisor;
        supervisorStopped = true;
      }
      if (s != null) stopSupervisor(s);
      shutdownPhase(
          "tearing down layer '" + layerName + "'", "tear down layer '" + layerName + "'");
      waitingOn = null;
      print(phase);
    }

    private boolean returnedNow() {
      synchronized (lock) {
        return returned;
      }
    }

    @Override
    public Supervisor supervisor() {
      synchronized (lock) {
        if (supervisorStopped || returned) {
          throw new IllegalStateException(
              "The supervisor of lifespan layer '" + layerName + "' has been shut down");
        }
        if (supervisor == null) supervisor = open(scope, name + "/" + layerName);
        return supervisor;
      }
    }

    /** The layer's code returned: shut down a supervisor still open (its startup failed). */
    void returned() {
      SupervisorImpl s;
      synchronized (lock) {
        returned = true;
        s = supervisorStopped ? null : supervisor;
        supervisorStopped = true;
      }
      if (s != null) stopSupervisor(s);
    }

    @Override
    public String toString() {
      return "Lifespan.Context[" + layerName + "]";
    }
  }
}
