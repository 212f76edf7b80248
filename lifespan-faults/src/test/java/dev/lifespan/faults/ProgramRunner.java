package dev.lifespan.faults;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.Lifespan;
import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import dev.lifespan.Task;
import dev.lifespan.TaskFailedException;
import dev.lifespan.TaskGroup;
import dev.lifespan.faults.Program.AdvanceEvent;
import dev.lifespan.faults.Program.Block;
import dev.lifespan.faults.Program.Body;
import dev.lifespan.faults.Program.CancelEvent;
import dev.lifespan.faults.Program.Child;
import dev.lifespan.faults.Program.Event;
import dev.lifespan.faults.Program.Fail;
import dev.lifespan.faults.Program.Group;
import dev.lifespan.faults.Program.Kind;
import dev.lifespan.faults.Program.Pause;
import dev.lifespan.faults.Program.Scope;
import dev.lifespan.faults.Program.ScopeKind;
import dev.lifespan.faults.Program.ShutdownEvent;
import dev.lifespan.faults.Program.Stmt;
import dev.lifespan.faults.Program.Sup;
import dev.lifespan.faults.Program.Swallow;
import dev.lifespan.leakcheck.internal.LeakCheck;
import dev.lifespan.test.FakeClock;
import java.io.IOException;
import java.time.Duration;
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
 *   <li>every task ends: the application ends without giving up, no stragglers, every thread the
 *       program ran on has terminated, no new thread is alive, no deadline stays registered;
 *   <li>a cancellation is never swallowed: after a body swallows the interrupt of a cancellation,
 *       {@code CancelScope.checkpoint()} throws;
 *   <li>a fail-form timeout is never a cancellation: {@code withTimeout} that absorbed its own
 *       deadline throws {@code TimeoutException} (which must then be reported exactly once like any
 *       failure), never returns normally;
 *   <li>shielded and must-finish bodies complete when given time: a short wait inside a shield (or
 *       a must-finish task) is never interrupted unless the test cancelled something or moved the
 *       clock meanwhile, and a must-finish task that never blocks is never cancelled unless its
 *       supervisor's report lists it as abandoned;
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
 * moves on.
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
  private final Map<Integer, ShutdownReport> reports = new ConcurrentHashMap<>();
  private final List<ShutdownReport> externalReports = new CopyOnWriteArrayList<>();
  private final Map<String, Task<?>> finiteMustFinish = new ConcurrentHashMap<>();

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
  }

  private static Set<Throwable> identitySet() {
    return Collections.newSetFromMap(new IdentityHashMap<>());
  }

  private void violation(String what) {
    violations.add(what);
  }

  // ---- running

  List<String> run() throws InterruptedException {
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
    app.requestShutdown();
    Duration sinceRequest = Duration.ZERO;
    boolean waitedAtHardDeadline = false;
    for (int i = 0; i < 40 && !ended(app); i++) {
      settle(app);
      if (!waitedAtHardDeadline && sinceRequest.compareTo(HARD_DEADLINE) >= 0) {
        waitedAtHardDeadline = true;
        // Everything is cancelled now, shields included, and every body ends when cancelled: the
        // application ends without more time on its clock. Moving the clock on would let the
        // runner give up on a thread that is only waiting for a processor.
        awaitReal(app, Duration.ofSeconds(20));
      }
      if (!ended(app)) {
        clock.advance(STEP);
        sinceRequest = sinceRequest.plus(STEP);
      }
    }
    App.Result result = awaitReal(app, Duration.ofSeconds(20));
    if (result == null) {
      violation("the application did not end 20 s after its hard deadline: " + app.dump(true));
      for (int i = 0; i < 10 && result == null; i++) {
        clock.advance(Duration.ofHours(1));
        result = awaitReal(app, Duration.ofSeconds(1));
      }
      if (result == null) return List.copyOf(violations);
    }
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

  private void apply(Event e) {
    epoch++;
    Stmt target = program.target(e);
    switch (e) {
      case AdvanceEvent a -> clock.advance(Duration.ofMillis(a.millis()));
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
      case Block b -> Thread.sleep(FOREVER);
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

  private void pause(Pause p, String protection) throws InterruptedException {
    activePauses.incrementAndGet();
    long before = epoch;
    try {
      Thread.sleep(1);
    } catch (InterruptedException e) {
      if (protection != null && before == epoch && !finalPhase) {
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
    ShutdownReport report =
        Supervisor.run(
            options,
            sup -> {
              supervisors.put(s.id(), sup);
              List<Task<?>> joins = new ArrayList<>();
              for (Child c : s.children()) {
                Task<?> t = start(sup, c);
                if (t != null && c.kind() == Kind.FORK_JOINED) joins.add(t);
              }
              exec(s.body(), protection);
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
            case MUST_FINISH ->
                sup.spawnMustFinish(name, () -> task(sp, c.body(), "must-finish task " + name));
          };
    } catch (IllegalStateException refused) {
      if (supervisors.entrySet().stream()
          .noneMatch(e -> e.getValue() == sup && shutDownByTest.contains(e.getKey()))) {
        violation(sup.name() + " refused " + name + " though nobody shut it down: " + refused);
      }
      return null;
    }
    sp.task = t;
    spawned.add(sp);
    if (c.kind() == Kind.MUST_FINISH && c.body().finite()) finiteMustFinish.put(name, t);
    return t;
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
              cancellers.put(sc.id(), scope::cancel);
              exec(sc.body(), inner);
            });
      }
      case MOVE_ON ->
          CancelScope.moveOnAfter(
              timeout,
              scope -> {
                cancellers.put(sc.id(), scope::cancel);
                exec(sc.body(), inner);
                return null;
              });
      case WITH_TIMEOUT -> {
        try {
          CancelScope.withTimeout(
              timeout,
              scope -> {
                opened[0] = scope;
                cancellers.put(sc.id(), scope::cancel);
                exec(sc.body(), inner);
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

  // ---- the checks

  private void check(App.Result result) throws InterruptedException {
    if (result.gaveUp()) violation("the runner gave up: " + result + "\n" + progress());
    List<ShutdownReport> all = new ArrayList<>(result.reports());
    all.addAll(reports.values());
    all.addAll(externalReports);
    for (ShutdownReport r : all) {
      if (!r.stragglers().isEmpty()) violation("stragglers, though every body ends: " + r);
    }
    if ((result.failure() != null) != (result.outcome() == App.Outcome.FAILED)) {
      violation("outcome " + result.outcome() + " with failure " + result.failure());
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
          if (task.state() == Future.State.CANCELLED && !abandoned.contains(name)) {
            violation(
                "must-finish task " + name + " never blocks, was not abandoned, yet cancelled");
          }
        });
  }

  private void exactlyOnce(App.Result result) {
    Map<Throwable, List<String>> found = new IdentityHashMap<>();
    if (result.failure() != null) count(result.failure(), "the application's failure", found);
    for (Throwable t : handled) count(t, "a failure handler", found);
    for (Throwable t : joined) count(t, "a join", found);
    for (Throwable t : shutdownThrew) count(t, "a shutdown() call", found);
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

  /** How many tasks the program spawned. */
  int tasks() {
    return spawned.size();
  }

  String progress() {
    return String.join("\n", progress);
  }
}
