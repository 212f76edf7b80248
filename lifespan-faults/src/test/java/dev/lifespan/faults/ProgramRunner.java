package dev.lifespan.faults;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.Lifespan;
import dev.lifespan.LifespanLocal;
import dev.lifespan.ServiceSpec;
import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import dev.lifespan.SupervisorFailedException;
import dev.lifespan.Task;
import dev.lifespan.TaskFailedException;
import dev.lifespan.TaskGroup;
import dev.lifespan.faults.Program.AdvanceEvent;
import dev.lifespan.faults.Program.Block;
import dev.lifespan.faults.Program.Body;
import dev.lifespan.faults.Program.CancelEvent;
import dev.lifespan.faults.Program.Child;
import dev.lifespan.faults.Program.DeadlineEvent;
import dev.lifespan.faults.Program.Event;
import dev.lifespan.faults.Program.Fail;
import dev.lifespan.faults.Program.Group;
import dev.lifespan.faults.Program.Kind;
import dev.lifespan.faults.Program.Pause;
import dev.lifespan.faults.Program.Read;
import dev.lifespan.faults.Program.Scope;
import dev.lifespan.faults.Program.ScopeKind;
import dev.lifespan.faults.Program.ShutdownEvent;
import dev.lifespan.faults.Program.Stmt;
import dev.lifespan.faults.Program.Sup;
import dev.lifespan.faults.Program.Svc;
import dev.lifespan.faults.Program.Swallow;
import dev.lifespan.leakcheck.internal.LeakCheck;
import dev.lifespan.test.FakeClock;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Runs one {@link Program} in an {@link App} on a {@link FakeClock} and checks the library's
 * invariants against what the program did; {@link #run()} returns the violations, empty if none.
 *
 * <p>The model is independent of the implementation: it records every failure the program throws
 * (by identity) and every place a failure can legitimately come out (the application's result, a
 * supervisor's failure handler, a joiner, a caller of {@code shutdown}), and requires each thrown
 * failure to be found in exactly one of them. The other invariants are checked where they can be
 * decided without knowing the scheduler's choices:
 *
 * <ul>
 *   <li>every task ends: the application ends without giving up, every thread the program ran on
 *       has terminated (stragglers once the test cancelled them), no new thread is alive, no
 *       deadline stays registered;
 *   <li>what a shutdown leaves undone is what the {@link Model} allows: the tasks the reports name
 *       abandoned or stragglers are among those it may name, include those it must name, and so the
 *       outcome (if the application did not fail) is {@code WORK_ABANDONED} when the model requires
 *       it and only when it allows it;
 *   <li>a cancellation is never swallowed: after a body swallows the interrupt of a cancellation,
 *       {@code CancelScope.checkpoint()} throws;
 *   <li>a fail-form timeout is never a cancellation: {@code withTimeout} that absorbed its own
 *       deadline throws {@code TimeoutException} (which must then be reported exactly once like any
 *       failure), never returns normally;
 *   <li>shielded and must-finish bodies complete when given time: a short wait inside a shield (or
 *       a must-finish task) is never interrupted unless the test cancelled something or moved the
 *       clock meanwhile, and a must-finish task that never blocks is never cancelled unless its
 *       supervisor's report lists it as abandoned or the supervisor escalated;
 *   <li>restartable services restart once per failure up to their intensity, then escalate (see
 *       {@link #checkServices});
 *   <li>a deadline the test moved fires when the clock reaches its new time, never before (not at
 *       its old time);
 *   <li>{@code LifespanLocal} reads see the application's value, at any depth, and throw {@code
 *       IllegalStateException} once the application ended;
 *   <li>the test thread's interrupt flag is clear.
 * </ul>
 *
 * Events are applied only once the program has <em>settled</em>: every task started, every thread
 * parked or ended, no short wait in progress. Settling is a heuristic (thread states); the checks
 * above stay sound whatever it decides, provided the fake clock never outruns a thread that was
 * woken but has not run yet (its state still says it waits). A fast clock would reach the hard
 * deadline and the moment the runner gives up within a few real milliseconds, and the runner would
 * rightly give up on a thread that was only waiting for a processor (this once looked like a lost
 * cancellation). So a waiting thread whose interrupt flag is set is not settled, and once the hard
 * deadline has cancelled everything the application is given real time to end before the clock
 * moves on. After the shutdown request the clock moves only once the shutdown monitor waits on it
 * ({@link FakeClock#awaitDeadline(Instant, Duration, java.util.function.BooleanSupplier)}). The
 * model's timing-dependent predictions (what must be named, exact restart counts) are checked only
 * if every settle succeeded.
 */
final class ProgramRunner {
  static final Duration FOREVER = Duration.ofDays(1);
  static final Duration APP_GRACE = Duration.ofSeconds(3);
  static final Duration SUPERVISOR_GRACE = Duration.ofSeconds(2);
  static final Duration APP_TEARDOWN = Duration.ofSeconds(2);

  /** The application's hard deadline, counted from the shutdown request. */
  static final Duration HARD_DEADLINE = APP_GRACE.plus(APP_TEARDOWN);

  /** How far the clock moves at a time during the application's shutdown. */
  private static final Duration STEP = Duration.ofMillis(500);

  /** Real time to wait for the application to reach a wait or settle before giving up. */
  static final Duration REAL = Duration.ofSeconds(20);

  /** The variable {@link Read} reads; every run sets its own value. */
  static final LifespanLocal<Object> LOCAL = LifespanLocal.named("tree-value");

  private final Object value = new Object();
  private final Model model;
  private volatile boolean appEnded; // set once the test saw the application's result
  private volatile java.util.concurrent.Callable<Object> readLater; // wrapped in the application
  private final AtomicInteger reads = new AtomicInteger();
  private volatile boolean unsettled; // a settle timed out: timing-dependent predictions are off

  private final Program program;
  private final FakeClock clock = new FakeClock();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final List<String> progress = new CopyOnWriteArrayList<>();

  private final Set<Throwable> thrown = Collections.synchronizedSet(identitySet());
  private final List<Throwable> handled = new CopyOnWriteArrayList<>();
  private final List<Throwable> joined = new CopyOnWriteArrayList<>();
  private final List<Throwable> shutdownThrew = new CopyOnWriteArrayList<>();

  private final Map<Integer, Runnable> cancellers = new ConcurrentHashMap<>();
  private final Map<Integer, Supervisor> supervisors = new ConcurrentHashMap<>();
  private final Set<Integer> cancelledByTest = ConcurrentHashMap.newKeySet();
  private final Set<Integer> shutDownByTest = ConcurrentHashMap.newKeySet();

  /**
   * When each supervisor's grace period ends at the latest, once its shutdown began (its body
   * ended, or an event shut it down): from then on its must-finish tasks may be cancelled, by the
   * timer thread that a clock move woke, after the move itself returned.
   */
  private final Map<Integer, Instant> graceEnds = new ConcurrentHashMap<>();

  /** The supervisor of each must-finish task's protection name. */
  private final Map<String, Integer> protectionSupervisor = new ConcurrentHashMap<>();

  private final Map<Integer, ShutdownReport> reports = new ConcurrentHashMap<>();
  private final List<ShutdownReport> externalReports = new CopyOnWriteArrayList<>();
  private final Map<String, Task<?>> finiteMustFinish = new ConcurrentHashMap<>();
  private final Map<String, Integer> mustFinishOwner = new ConcurrentHashMap<>();

  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private final List<Thread> helpers = new CopyOnWriteArrayList<>();
  private final List<Spawned> spawned = new CopyOnWriteArrayList<>();
  private final AtomicInteger activePauses = new AtomicInteger();
  private volatile boolean mainStarted;
  private volatile long epoch; // bumped by every event and clock move of the test
  private volatile boolean finalPhase;
  private volatile App.Outcome outcome;

  /** A task spawned by the program: started once its body runs. */
  private static final class Spawned {
    volatile boolean started;
    volatile Task<?> task;

    boolean settled() {
      Task<?> t = task;
      return started || (t != null && t.isDone());
    }
  }

  ProgramRunner(Program program) {
    this.program = program;
    this.model = new Model(program);
  }

  /** A restartable service of the program: how often its body ran, what it threw. */
  private static final class ServiceRun {
    final Child child;
    final int supervisor;
    final AtomicInteger runs = new AtomicInteger();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();

    ServiceRun(Child child, int supervisor) {
      this.child = child;
      this.supervisor = supervisor;
    }
  }

  private final Map<Integer, ServiceRun> services = new ConcurrentHashMap<>();
  private final Map<Integer, SupervisorFailedException> escalations = new ConcurrentHashMap<>();
  private final Map<String, List<LogRecord>> restartLog = new ConcurrentHashMap<>();

  /**
   * Takes the library's log records while the program runs: a service's restart (kept, checked by
   * {@link #checkServices}), anything else printed as one line.
   */
  private final Handler logs =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          String m = r.getMessage();
          if (m != null && m.startsWith("Service '") && m.contains("' restarting (attempt ")) {
            String service =
                m.substring("Service '".length(), m.indexOf('\'', "Service '".length()));
            restartLog.computeIfAbsent(service, k -> new CopyOnWriteArrayList<>()).add(r);
          } else {
            System.err.println(
                r.getLevel() + " " + m + (r.getThrown() == null ? "" : ": " + r.getThrown()));
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  /** A deadline the test moved: checked against the clock after every move of the test. */
  private record Moved(int scope, CancelScope handle, Instant deadline) {}

  private final Map<Integer, CancelScope> scopeHandles = new ConcurrentHashMap<>();
  private final Set<Integer> exitedScopes = ConcurrentHashMap.newKeySet();
  private final Map<Integer, Moved> moved = new ConcurrentHashMap<>();
  private final AtomicInteger movedCount = new AtomicInteger();
  private volatile Instant hardDeadline = Instant.MAX; // the application's, once requested

  private static Set<Throwable> identitySet() {
    return Collections.newSetFromMap(new IdentityHashMap<>());
  }

  private void violation(String what) {
    violations.add(what);
  }

  // ---- running

  List<String> run() throws InterruptedException {
    Logger log = Logger.getLogger("dev.lifespan");
    log.addHandler(logs);
    log.setUseParentHandlers(false);
    try {
      return runLogged();
    } finally {
      log.removeHandler(logs);
      log.setUseParentHandlers(true);
    }
  }

  private List<String> runLogged() throws InterruptedException {
    LeakCheck leaks = LeakCheck.start();
    App app =
        App.start(
            App.Options.named("tree")
                .withClock(clock)
                .withGrace(APP_GRACE)
                .withTeardownTimeout(APP_TEARDOWN)
                .withKillTimeout(Duration.ofSeconds(1))
                .withProgressInterval(Duration.ofHours(1))
                .withProgress(progress::add),
            Lifespan.of(),
            () -> {
              threads.add(Thread.currentThread());
              LOCAL.set(value);
              readLater = LifespanLocal.wrap(LOCAL::get);
              mainStarted = true;
              exec(program.main(), null);
            });
    for (Event e : program.events()) {
      settle(app);
      if (ended(app)) break;
      apply(e);
    }
    settle(app);
    epoch++;
    finalPhase = true;
    Instant requested = clock.instant();
    hardDeadline = requested.plus(HARD_DEADLINE);
    app.requestShutdown();
    // The shutdown monitor cancels the main body, then waits for the hard deadline on the clock.
    clock.awaitDeadline(hardDeadline, REAL, () -> app.state() == App.State.STOPPED);
    boolean waitedAtHardDeadline = false;
    for (int i = 0; i < 40 && !ended(app); i++) {
      settle(app);
      if (!waitedAtHardDeadline && !clock.instant().isBefore(hardDeadline)) {
        waitedAtHardDeadline = true;
        // Everything is cancelled now, shields included, and every body ends when cancelled: the
        // application ends without more time on its clock. Moving the clock on would let the
        // runner give up on a thread that is only waiting for a processor.
        awaitReal(app, REAL);
      }
      if (!ended(app)) advance(STEP);
    }
    App.Result result = awaitReal(app, REAL);
    if (result == null) {
      violation("the application did not end 20 s after its hard deadline: " + app.dump(true));
      for (int i = 0; i < 10 && result == null; i++) {
        clock.advance(Duration.ofHours(1));
        result = awaitReal(app, Duration.ofSeconds(1));
      }
      if (result == null) return List.copyOf(violations);
    }
    appEnded = !result.gaveUp(); // giving up leaves the application's values to its threads
    endStragglers(app);
    for (Thread h : helpers) {
      if (!h.join(Duration.ofSeconds(10))) violation("a shutdown() call did not return: " + h);
    }
    outcome = result.outcome();
    check(result);
    if (Thread.interrupted()) violation("the test thread's interrupt flag was left set");
    var leaked = leaks.awaitEnd(name -> false, Duration.ofSeconds(5));
    if (!leaked.isEmpty()) violation(leaked.report("the program"));
    return List.copyOf(violations);
  }

  private static boolean ended(App app) throws InterruptedException {
    return app.await(Duration.ZERO).isPresent();
  }

  private static App.Result awaitReal(App app, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<App.Result> r = app.await(Duration.ZERO);
      if (r.isPresent()) return r.get();
      if (System.nanoTime() - end > 0) return null;
      Thread.sleep(1);
    }
  }

  /**
   * Waits (at most 5 s of real time) until the program has settled: the main body and every task
   * started, no short wait in progress, every thread parked (with no interrupt it has yet to see)
   * or ended, three polls in a row.
   */
  private void settle(App app) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    int quiet = 0;
    while (quiet < 3 && System.nanoTime() - end < 0) {
      quiet = quiet(app) ? quiet + 1 : 0;
      Thread.sleep(Duration.ofNanos(200_000));
    }
    if (quiet < 3) unsettled = true;
  }

  private boolean quiet(App app) throws InterruptedException {
    if (!mainStarted && !ended(app)) return false;
    if (activePauses.get() > 0) return false;
    for (Spawned s : spawned) {
      if (!s.settled()) return false;
    }
    for (Thread t : threads) {
      Thread.State st = t.getState();
      if (st == Thread.State.TERMINATED) continue;
      if (st != Thread.State.WAITING && st != Thread.State.TIMED_WAITING) return false;
      // Interrupted while it waits (a cancellation reached it) but not yet running again: its state
      // stays WAITING until it gets a processor, which on a loaded machine can take many
      // milliseconds. Waiting cannot continue with the flag set: it is about to wake.
      if (t.isInterrupted()) return false;
    }
    return true;
  }

  /** Moves the clock, then checks every moved deadline against the new time. */
  private void advance(Duration step) {
    List<Moved> open = new ArrayList<>();
    for (Moved m : moved.values()) {
      if (!exitedScopes.contains(m.scope()) && !cancelledByTest.contains(m.scope())) open.add(m);
    }
    clock.advance(step);
    for (Moved m : open) checkMoved(m);
  }

  private void checkMoved(Moved m) {
    Instant now = clock.instant();
    if (!now.isBefore(hardDeadline)) return; // the hard deadline cancels shields itself
    boolean fired = m.handle().isCancelCalled();
    if (!now.isBefore(m.deadline()) && !fired) {
      violation(
          "s" + m.scope() + "'s deadline, moved to " + m.deadline() + ", had not fired at " + now);
    } else if (now.isBefore(m.deadline()) && fired) {
      violation(
          "s"
              + m.scope()
              + "'s deadline, moved to "
              + m.deadline()
              + ", fired before it, at "
              + now
              + " (its old deadline?)");
    }
  }

  private void apply(Event e) {
    epoch++;
    Stmt target = program.target(e);
    switch (e) {
      case AdvanceEvent a -> advance(Duration.ofMillis(a.millis()));
      case DeadlineEvent d -> {
        if (target == null) return;
        CancelScope scope = scopeHandles.get(target.id());
        if (scope == null || exitedScopes.contains(target.id())) return;
        if (scope.isCancelCalled() || cancelledByTest.contains(target.id())) return;
        Instant at = clock.instant().plusMillis(d.millis());
        try {
          scope.setDeadline(at);
        } catch (IllegalStateException closed) {
          return; // it closed meanwhile
        }
        movedCount.incrementAndGet();
        Moved m = new Moved(target.id(), scope, at);
        moved.put(target.id(), m);
        checkMoved(m);
      }
      case CancelEvent c -> {
        if (target == null) return;
        Runnable cancel = cancellers.get(target.id());
        if (cancel != null) {
          cancelledByTest.add(target.id());
          cancel.run();
        }
      }
      case ShutdownEvent sd -> {
        if (target == null) return;
        Supervisor sup = supervisors.get(target.id());
        if (sup == null) return;
        shutDownByTest.add(target.id());
        graceEnds.merge(
            target.id(),
            clock.instant().plusMillis(sd.graceMillis()),
            (a, b) -> a.isBefore(b) ? a : b);
        Thread h =
            Thread.ofVirtual()
                .name("shutdown " + Program.name(target))
                .start(
                    () -> {
                      try {
                        externalReports.add(sup.shutdown(Duration.ofMillis(sd.graceMillis())));
                      } catch (Throwable t) {
                        shutdownThrew.add(t);
                      }
                    });
        helpers.add(h);
        threads.add(h);
      }
    }
    epoch++;
  }

  // ---- the program's statements

  /**
   * Runs {@code body}. {@code protection} names the shield or must-finish task that protects this
   * code from every cancellation but the test's own events; null if none does.
   */
  private void exec(Body body, String protection) throws Exception {
    for (Stmt s : body.stmts()) exec(s, protection);
  }

  private void exec(Stmt s, String protection) throws Exception {
    switch (s) {
      case Fail f -> {
        Exception e =
            f.checked() ? new IOException("f" + f.id()) : new IllegalStateException("f" + f.id());
        thrown.add(e);
        throw e;
      }
      case Block b -> {
        try {
          Thread.sleep(FOREVER);
        } finally {
          if (appEnded) readAfterEnd("#" + b.id() + ", ended after the application");
        }
      }
      case Read r -> read(r);
      case Swallow sw -> {
        try {
          Thread.sleep(FOREVER);
        } catch (InterruptedException swallowed) {
          // what careless user code does; the library must deliver the cancellation again
        }
        CancelScope.checkpoint();
        violation("#" + sw.id() + ": checkpoint() returned after an interrupt was swallowed");
        throw new IllegalStateException("#" + sw.id() + " swallowed a cancellation");
      }
      case Pause p -> pause(p, protection);
      case Group g -> group(g);
      case Sup sup -> supervisor(sup, protection);
      case Scope sc -> scope(sc, protection);
    }
  }

  private void read(Read r) {
    reads.incrementAndGet();
    boolean after = appEnded;
    try {
      Object v = LOCAL.get();
      if (v != value) violation("#" + r.id() + ": LOCAL.get() returned " + v + ", not the app's");
      if (after) violation("#" + r.id() + ": LOCAL.get() returned a value after the app ended");
    } catch (IllegalStateException e) {
      if (!finalPhase || !e.getMessage().contains("after application 'tree' ended")) {
        violation("#" + r.id() + ": LOCAL.get() threw while the application ran: " + e);
      }
    }
  }

  /** A read of {@link #LOCAL} once the application ended: it must throw, naming why. */
  private void readAfterEnd(String where) {
    try {
      Object v = LOCAL.get();
      violation(where + ": LOCAL.get() returned " + v + " after the application ended");
    } catch (IllegalStateException e) {
      String expected = "LifespanLocal 'tree-value' read after application 'tree' ended";
      if (!expected.equals(e.getMessage())) {
        violation(where + ": LOCAL.get() after the end threw '" + e.getMessage() + "'");
      }
    }
  }

  /** Whether {@code protection} is a must-finish task whose supervisor's grace may have ended. */
  private boolean graceMayHaveEnded(String protection) {
    Integer sup = protectionSupervisor.get(protection);
    Instant end = sup == null ? null : graceEnds.get(sup);
    return end != null && !clock.instant().isBefore(end);
  }

  private void pause(Pause p, String protection) throws InterruptedException {
    activePauses.incrementAndGet();
    long before = epoch;
    try {
      Thread.sleep(1);
    } catch (InterruptedException e) {
      if (protection != null && before == epoch && !finalPhase && !graceMayHaveEnded(protection)) {
        violation(
            protection
                + " did not protect #"
                + p.id()
                + ": interrupted with no event or clock move");
      }
      throw e;
    } finally {
      activePauses.decrementAndGet();
    }
  }

  private void task(Spawned sp, Body body, String protection) throws Exception {
    threads.add(Thread.currentThread());
    sp.started = true;
    exec(body, protection);
  }

  private void group(Group g) throws Exception {
    String name = Program.name(g);
    TaskGroup.run(
        name,
        group -> {
          cancellers.put(g.id(), group::cancel);
          int i = 0;
          for (Body child : g.children()) {
            Spawned sp = new Spawned();
            spawned.add(sp);
            sp.task = group.spawn(name + "-t" + i++, () -> task(sp, child, null));
          }
          exec(g.body(), null);
        });
  }

  private void supervisor(Sup s, String protection) throws Exception {
    String name = Program.name(s);
    var options =
        Supervisor.Options.named(name)
            .withGrace(SUPERVISOR_GRACE)
            .withKillTimeout(Duration.ofSeconds(1))
            .withFailureHandler((task, failure) -> handled.add(failure));
    ShutdownReport report;
    try {
      report =
          Supervisor.run(
              options,
              sup -> {
                supervisors.put(s.id(), sup);
                List<Task<?>> joins = new ArrayList<>();
                for (Child c : s.children()) {
                  Task<?> t = start(sup, c);
                  if (t != null && c.kind() == Kind.FORK_JOINED) joins.add(t);
                }
                // An escalation aborts the supervisor: its body and must-finish tasks are
                // cancelled.
                try {
                  exec(s.body(), model.mayEscalate.contains(s.id()) ? null : protection);
                } finally { // however the body ended, the shutdown begins
                  graceEnds.merge(
                      s.id(),
                      clock.instant().plus(SUPERVISOR_GRACE),
                      (a, b) -> a.isBefore(b) ? a : b);
                }
                for (Task<?> t : joins) {
                  try {
                    t.join();
                  } catch (TaskFailedException e) {
                    joined.add(e);
                  } catch (CancelledException e) {
                    throw e; // the joiner's own cancellation
                  } catch (CancellationException e) {
                    // the task was cancelled: not a failure
                  }
                }
              });
    } catch (SupervisorFailedException e) {
      escalations.put(s.id(), e);
      throw e;
    }
    reports.put(s.id(), report);
  }

  private Task<?> start(Supervisor sup, Child c) {
    String name = "t" + c.id();
    Spawned sp = new Spawned();
    Task<?> t;
    try {
      t =
          switch (c.kind()) {
            case SPAWN -> sup.spawn(name, () -> task(sp, c.body(), null));
            case FORK, FORK_JOINED ->
                sup.fork(
                    name,
                    () -> {
                      task(sp, c.body(), null);
                      return null;
                    });
            case MUST_FINISH -> {
              protectionSupervisor.put("must-finish task " + name, supId(sup));
              yield sup.spawnMustFinish(
                  name,
                  () ->
                      task(
                          sp,
                          c.body(),
                          model.mayEscalate.contains(supId(sup))
                              ? null
                              : "must-finish task " + name));
            }
            case SERVICE -> sup.startService(service(sup, c, sp));
          };
    } catch (IllegalStateException refused) {
      if (model.mayEscalate.contains(supId(sup))) return null; // it aborted: it refuses everything
      if (supervisors.entrySet().stream()
          .noneMatch(e -> e.getValue() == sup && shutDownByTest.contains(e.getKey()))) {
        violation(sup.name() + " refused " + name + " though nobody shut it down: " + refused);
      }
      return null;
    }
    sp.task = t;
    spawned.add(sp);
    if (c.kind() == Kind.MUST_FINISH && c.body().finite()) {
      finiteMustFinish.put(name, t);
      mustFinishOwner.put(name, supId(sup));
    }
    return t;
  }

  /** The spec of a service child: fails {@code failures} times, then blocks until cancelled. */
  private ServiceSpec service(Supervisor sup, Child c, Spawned sp) {
    Svc v = c.svc();
    ServiceRun run = new ServiceRun(c, supId(sup));
    services.put(c.id(), run);
    return ServiceSpec.of(
            "t" + c.id(),
            () -> {
              int n = run.runs.incrementAndGet();
              if (n == 1) {
                threads.add(Thread.currentThread());
                sp.started = true;
              }
              if (n <= v.failures()) {
                var failure = new IllegalStateException("t" + c.id() + " run " + n);
                run.failures.add(failure);
                throw failure;
              }
              Thread.sleep(FOREVER);
            })
        .withRestart(v.restart())
        .withIntensity(v.maxRestarts(), Duration.ofSeconds(60))
        .withBackoff(Duration.ofMillis(v.backoffMillis()), 2, Duration.ofSeconds(30))
        .withJitter(0);
  }

  private int supId(Supervisor sup) {
    return supervisors.entrySet().stream()
        .filter(e -> e.getValue() == sup)
        .map(Map.Entry::getKey)
        .findFirst()
        .orElseThrow();
  }

  private void scope(Scope sc, String protection) throws Exception {
    String name = Program.name(sc);
    Duration timeout = Duration.ofMillis(sc.timeoutMillis());
    // A zero timeout fires at once, with no event: it protects nothing below it.
    String inner =
        sc.kind().hasTimeout() && sc.timeoutMillis() == 0
            ? null
            : sc.kind().shielded() ? "shield " + name : protection;
    CancelScope[] opened = new CancelScope[1];
    switch (sc.kind()) {
      case PLAIN, SHIELD, SHIELD_TIMEOUT -> {
        var options = CancelScope.Options.named(name);
        if (sc.kind().shielded()) options = options.shielded();
        if (sc.kind() == ScopeKind.SHIELD_TIMEOUT) options = options.withTimeout(timeout);
        CancelScope.run(
            options,
            scope -> {
              opened(sc, scope);
              try {
                exec(sc.body(), inner);
              } finally {
                exitedScopes.add(sc.id());
              }
            });
      }
      case MOVE_ON ->
          CancelScope.moveOnAfter(
              timeout,
              scope -> {
                opened(sc, scope);
                try {
                  exec(sc.body(), inner);
                } finally {
                  exitedScopes.add(sc.id());
                }
                return null;
              });
      case WITH_TIMEOUT -> {
        try {
          CancelScope.withTimeout(
              timeout,
              scope -> {
                opened[0] = scope;
                opened(sc, scope);
                try {
                  exec(sc.body(), inner);
                } finally {
                  exitedScopes.add(sc.id());
                }
                return null;
              });
        } catch (TimeoutException e) {
          thrown.add(e); // a failure like any other: it must be reported exactly once
          throw e;
        }
        if (opened[0] != null
            && opened[0].isCancelledCaught()
            && !cancelledByTest.contains(sc.id())) {
          violation(
              "withTimeout "
                  + name
                  + " absorbed its own deadline and returned normally: a timeout became a"
                  + " cancellation");
        }
      }
    }
  }

  private void opened(Scope sc, CancelScope scope) {
    cancellers.put(sc.id(), scope::cancel);
    scopeHandles.put(sc.id(), scope);
  }

  /**
   * Ends what outlived the application (the stragglers the model allows): cancels every scope and
   * group the program opened, shields included, and moves the clock on (the grace periods of
   * supervisors inside them) until every thread of the program has ended.
   */
  private void endStragglers(App app) throws InterruptedException {
    cancelledByTest.addAll(cancellers.keySet());
    for (int i = 0; i < 10 && threads.stream().anyMatch(Thread::isAlive); i++) {
      for (Runnable c : cancellers.values()) c.run();
      settle(app);
      if (threads.stream().anyMatch(Thread::isAlive)) clock.advance(Duration.ofSeconds(1));
    }
  }

  // ---- the checks

  private void check(App.Result result) throws InterruptedException {
    if (result.gaveUp()) violation("the runner gave up: " + result + "\n" + progress());
    List<ShutdownReport> all = new ArrayList<>(result.reports());
    all.addAll(reports.values());
    all.addAll(externalReports);
    if ((result.failure() != null) != (result.outcome() == App.Outcome.FAILED)) {
      violation("outcome " + result.outcome() + " with failure " + result.failure());
    }
    checkModel(result, all);
    checkServices();
    if (readLater != null && !result.gaveUp()) {
      try {
        Object v = readLater.call();
        violation("LOCAL.get() wrapped in the application returned " + v + " after it ended");
      } catch (IllegalStateException e) {
        if (!e.getMessage()
            .equals("LifespanLocal 'tree-value' read after application 'tree' ended")) {
          violation("LOCAL.get() after the end threw '" + e.getMessage() + "'");
        }
      } catch (Exception e) {
        violation("LOCAL.get() after the end threw " + e);
      }
    }
    for (Thread t : threads) {
      if (!t.join(Duration.ofSeconds(5))) {
        violation("thread " + t + " outlived the application");
      }
    }
    // The runner's thread may still be cancelling its last timed wait when await() returns.
    for (int i = 0; i < 1000 && clock.pendingDeadlines() != 0; i++) Thread.sleep(1);
    if (clock.pendingDeadlines() != 0) {
      violation(
          clock.pendingDeadlines() + " deadlines still registered after the application ended");
    }
    exactlyOnce(result);
    Set<String> abandoned = new java.util.HashSet<>();
    for (ShutdownReport r : all) abandoned.addAll(r.abandoned());
    finiteMustFinish.forEach(
        (name, task) -> {
          if (task.state() == Future.State.CANCELLED
              && !abandoned.contains(name)
              && !escalations.containsKey(mustFinishOwner.get(name))) { // an abort cancels all
            violation(
                "must-finish task " + name + " never blocks, was not abandoned, yet cancelled");
          }
        });
  }

  /** The model's predictions: what the reports name, and so the outcome. */
  private void checkModel(App.Result result, List<ShutdownReport> all) {
    Set<String> abandoned = new java.util.TreeSet<>();
    Set<String> stragglers = new java.util.TreeSet<>();
    for (ShutdownReport r : all) {
      abandoned.addAll(r.abandoned());
      r.stragglers().forEach(x -> stragglers.add(x.name()));
    }
    if (!model.mayAbandoned.containsAll(abandoned)) {
      violation("abandoned " + abandoned + ", but the model allows only " + model + "\n" + all);
    }
    if (!model.mayStraggle.containsAll(stragglers)) {
      violation("stragglers " + stragglers + ", but the model allows only " + model + "\n" + all);
    }
    if (unsettled) return; // the clock may have moved while work was still under way
    Set<String> named = new java.util.TreeSet<>(result.abandoned());
    Set<String> namedStragglers = new java.util.TreeSet<>();
    result.stragglers().forEach(x -> namedStragglers.add(x.name()));
    if (!named.containsAll(model.mustAbandoned)) {
      violation("the result names abandoned " + named + ", the model requires " + model);
    }
    if (!namedStragglers.containsAll(model.mustStraggle)) {
      violation("the result names stragglers " + namedStragglers + ", the model requires " + model);
    }
    App.Outcome o = result.outcome();
    if (o == App.Outcome.FAILED || o == App.Outcome.STARTUP_FAILED) return;
    Model.Verdict v = model.workAbandoned();
    if (v == Model.Verdict.MUST && o != App.Outcome.WORK_ABANDONED) {
      violation("outcome " + o + ", the model requires WORK_ABANDONED: " + model);
    } else if (v == Model.Verdict.MUST_NOT && o == App.Outcome.WORK_ABANDONED) {
      violation("outcome WORK_ABANDONED, the model rules it out: " + model + "\n" + result);
    }
  }

  /**
   * Restartable services, against the restarts the supervisor logged ({@code WARNING}, with the
   * failure as the record's throwable): the failures restarted are the first ones, in order, at
   * most {@code maxRestarts}; the body ran once more than it was restarted (or as often, if
   * cancelled during a backoff); a restarted failure is reported nowhere else, the failure that was
   * not restarted exactly once (to the failure handler, or as the cause of the supervisor's
   * escalation, which only a failure past the intensity may cause). For a service whose supervisor
   * nothing cancels before the program settles, and with no backoff, the counts are exact: {@code
   * min(failures, maxRestarts)} restarts, and an escalation if and only if it failed more often.
   */
  private void checkServices() {
    for (ServiceRun run : services.values()) {
      Svc v = run.child.svc();
      String name = "t" + run.child.id();
      int n = run.runs.get();
      if (n == 0) continue; // never started (its supervisor aborted or was cancelled first)
      List<Throwable> failures = run.failures;
      List<LogRecord> logged = restartLog.getOrDefault(name, List.of());
      int m = logged.size();
      for (int i = 0; i < m; i++) {
        Throwable t = logged.get(i).getThrown();
        if (i >= failures.size() || t != failures.get(i)) {
          violation(
              name + "'s restart " + (i + 1) + " logged " + t + ", not its failure " + (i + 1));
        } else if (!logged.get(i).getMessage().contains("(attempt " + (i + 1) + ")")) {
          violation(name + "'s restart " + (i + 1) + " logged as " + logged.get(i).getMessage());
        }
        if (t != null) restarted.add(t);
      }
      int max = v.restart() == ServiceSpec.Restart.TEMPORARY ? 0 : v.maxRestarts();
      if (m > max) violation(name + " restarted " + m + " times, more than " + max + ": " + v);
      if (n != m && n != m + 1) violation(name + " ran " + n + " times after " + m + " restarts");
      for (int i = m; i < failures.size(); i++) thrown.add(failures.get(i)); // reported once
      SupervisorFailedException esc = escalations.get(run.supervisor);
      boolean escalatedByThis =
          esc != null && failures.size() > m && esc.getCause() == failures.get(m);
      if (escalatedByThis && (m != v.maxRestarts() || !v.escalates())) {
        violation(name + " escalated after " + m + " restarts for " + v + ": " + esc);
      }
      boolean siblingEscalates =
          services.values().stream()
              .anyMatch(
                  o -> o != run && o.supervisor == run.supervisor && o.child.svc().escalates());
      if (v.backoffMillis() != 0
          || siblingEscalates // its abort may cancel this one between runs
          || !model.stable.contains(run.supervisor)
          || unsettled) {
        continue;
      }
      if (m != Math.min(v.failures(), max)) {
        violation(
            name + " restarted " + m + " times, not " + Math.min(v.failures(), max) + ": " + v);
      }
      if (v.escalates() != escalatedByThis && escalations.containsKey(run.supervisor) == false) {
        violation(name + (v.escalates() ? " did not escalate: " : " escalated: ") + v);
      }
    }
  }

  private final Set<Throwable> restarted = Collections.synchronizedSet(identitySet());

  private void exactlyOnce(App.Result result) {
    Map<Throwable, List<String>> found = new IdentityHashMap<>();
    if (result.failure() != null) count(result.failure(), "the application's failure", found);
    for (Throwable t : handled) count(t, "a failure handler", found);
    for (Throwable t : joined) count(t, "a join", found);
    for (Throwable t : shutdownThrew) {
      // An escalation is thrown to every caller of shutdown() as well as to the supervisor's owner
      // (its Supervisor.run): the owner's is the report, the others are views of it.
      if (!(t instanceof SupervisorFailedException)) count(t, "a shutdown() call", found);
    }
    synchronized (restarted) {
      for (Throwable t : restarted) {
        if (found.containsKey(t)) {
          violation("restarted failure " + describe(t) + " was also reported: " + found.get(t));
        }
      }
    }
    synchronized (thrown) {
      for (Throwable t : thrown) {
        List<String> where = found.getOrDefault(t, List.of());
        if (where.isEmpty()) {
          violation("failure " + describe(t) + " was lost (reported nowhere)");
        } else if (where.size() > 1) {
          violation(
              "failure " + describe(t) + " was reported " + where.size() + " times: " + where);
        }
      }
    }
  }

  private static String describe(Throwable t) {
    return t.getClass().getSimpleName()
        + (t.getMessage() == null ? "" : "(" + t.getMessage() + ")");
  }

  /** Counts every occurrence of every throwable in {@code t}'s cause and suppressed graph. */
  private static void count(Throwable t, String sink, Map<Throwable, List<String>> found) {
    count(t, sink, found, identitySet());
  }

  private static void count(
      Throwable t, String sink, Map<Throwable, List<String>> found, Set<Throwable> path) {
    if (t == null || !path.add(t)) return; // a cycle is not a second report
    found.computeIfAbsent(t, k -> new ArrayList<>()).add(sink);
    count(t.getCause(), sink, found, path);
    for (Throwable s : t.getSuppressed()) count(s, sink, found, path);
    path.remove(t);
  }

  /** How the application ended, once {@link #run()} returned. */
  App.Outcome outcome() {
    return outcome;
  }

  /** How many failures the program threw, {@code TimeoutException}s included. */
  int failuresThrown() {
    return thrown.size();
  }

  /** How many {@code TimeoutException}s the fail-form scopes threw. */
  int timeouts() {
    synchronized (thrown) {
      return (int) thrown.stream().filter(t -> t instanceof TimeoutException).count();
    }
  }

  String debug() {
    StringBuilder sb = new StringBuilder();
    services.forEach(
        (id, r) ->
            sb.append(
                "service t"
                    + id
                    + " runs="
                    + r.runs
                    + " failures="
                    + r.failures
                    + " logged="
                    + restartLog.get("t" + id)
                    + "\n"));
    sb.append("handled=" + handled + " escalations=" + escalations + "\n" + progress());
    return sb.toString();
  }

  /** What the model predicts. */
  Model model() {
    return model;
  }

  /** How many times the program read {@link #LOCAL}, and moved a deadline. */
  int reads() {
    return reads.get();
  }

  int movedDeadlines() {
    return movedCount.get();
  }

  /** How many times services were restarted. */
  int restarts() {
    return services.values().stream().mapToInt(r -> Math.max(0, r.runs.get() - 1)).sum();
  }

  /** Whether some settle timed out (the timing-dependent predictions were not checked). */
  boolean unsettled() {
    return unsettled;
  }

  /** How many tasks the program spawned. */
  int tasks() {
    return spawned.size();
  }

  String progress() {
    return String.join("\n", progress);
  }
}
