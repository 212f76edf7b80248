package dev.lifespan.faults;

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
import dev.lifespan.faults.Program.Swallow;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a {@link Program}'s shutdown must, may and must not leave undone, decided from its shape
 * alone: which must-finish tasks a supervisor's report may or must name as <em>abandoned</em>
 * (still running when its grace period ended), which tasks it may or must name as
 * <em>stragglers</em> (still running when it gave up, a kill timeout later), and so whether the
 * application's outcome must be, may be or must not be {@code WORK_ABANDONED} (when it did not
 * fail).
 *
 * <p>The timeline it assumes ({@link ProgramRunner}): supervisors have a grace of 2 s and a kill
 * timeout of 1 s; the application's shutdown is requested at T, its main body is cancelled at T,
 * its hard deadline (everything cancelled, shields and must-finish tasks included) is T + 5 s; the
 * fake clock moves only once the program has settled.
 *
 * <p><b>May</b> (an over-approximation): a must-finish task may be abandoned if its body may block
 * (it is not {@linkplain Body#finite() finite}) or its supervisor is shut down with no grace; any
 * supervisor's child may straggle if its body may not end when its task is cancelled (a shield
 * around blocking code, or a supervisor of its own whose must-finish work blocks, which holds it
 * for that supervisor's grace, longer than the outer kill timeout).
 *
 * <p><b>Must</b> (an under-approximation, where no scheduling can change the result): a supervisor
 * S reached on a <em>must path</em> from the main body (through plain scopes, task groups that
 * cannot fail, and supervisors' bodies; every statement before it a short wait or a read), which
 * cannot escalate and whose body ends when cancelled, is shut down by T (so its grace ends by T + 2
 * s and its kill timeout by T + 3 s, both before the hard deadline) and its report reaches the
 * application before the main body can end. Then a must-finish child of S whose body is
 * <em>stuck</em> (after short waits, blocks until cancelled, in scopes no event or timeout touches)
 * must be named abandoned; a child whose body is <em>stuck through cancellation</em> (blocks inside
 * a shield no event touches, or, for a must-finish child, runs a supervisor whose must-finish work
 * is stuck) must be named a straggler — an ordinary child only if S's body blocks first, so that
 * the child surely started before S cancels it.
 */
final class Model {
  /** Whether the outcome is or names something: must, may, or must not. */
  enum Verdict {
    MUST,
    MAY,
    MUST_NOT
  }

  final Set<String> mayAbandoned = new TreeSet<>();
  final Set<String> mustAbandoned = new TreeSet<>();
  final Set<String> mayStraggle = new TreeSet<>();
  final Set<String> mustStraggle = new TreeSet<>();

  /**
   * Supervisors (by id) that nothing cancels before the program settles: reached on a must path,
   * their body blocks until cancelled.
   */
  final Set<Integer> stable = new HashSet<>();

  /** Supervisors (by id) with a service that may make them escalate. */
  final Set<Integer> mayEscalate = new HashSet<>();

  private final Set<Integer> touched = new HashSet<>(); // scopes and groups an event targets
  private final Set<Integer> noGrace = new HashSet<>(); // supervisors an event shuts down at once

  Model(Program p) {
    for (Event e : p.events()) {
      Stmt t = p.target(e);
      if (t == null) continue;
      switch (e) {
        case CancelEvent c -> touched.add(t.id());
        case DeadlineEvent d -> touched.add(t.id());
        case ShutdownEvent sd -> {
          if (sd.graceMillis() == 0) noGrace.add(t.id());
        }
        default -> {}
      }
    }
    walk(p.main(), true);
  }

  /** Whether the application's outcome (if it did not fail) must be, may be WORK_ABANDONED. */
  Verdict workAbandoned() {
    if (!mustAbandoned.isEmpty() || !mustStraggle.isEmpty()) return Verdict.MUST;
    if (!mayAbandoned.isEmpty() || !mayStraggle.isEmpty()) return Verdict.MAY;
    return Verdict.MUST_NOT;
  }

  // ---- the walk

  private void walk(Body b, boolean mustPath) {
    boolean reached = mustPath;
    for (Stmt s : b.stmts()) {
      visit(s, reached);
      if (!(s instanceof Pause || s instanceof Read)) reached = false;
    }
  }

  private void visit(Stmt s, boolean onPath) {
    switch (s) {
      case Group g -> {
        boolean path = onPath && !mayFail(g);
        for (Body c : g.children()) walk(c, path);
        walk(g.body(), path);
      }
      case Scope sc -> walk(sc.body(), onPath && sc.kind() == ScopeKind.PLAIN);
      case Sup sup -> supervisor(sup, onPath);
      default -> {}
    }
  }

  private void supervisor(Sup sup, boolean onPath) {
    boolean escalates =
        sup.children().stream().anyMatch(c -> c.kind() == Kind.SERVICE && c.svc().escalates());
    if (escalates) mayEscalate.add(sup.id());
    boolean must = onPath && !escalates && endsOnCancel(sup.body());
    boolean bodyBlocksFirst = stuck(sup.body());
    if (onPath && bodyBlocksFirst) stable.add(sup.id());
    for (Child c : sup.children()) {
      String name = "t" + c.id();
      if (c.kind() == Kind.SERVICE) continue; // its body fails or blocks, and ends when cancelled
      boolean mustFinish = c.kind() == Kind.MUST_FINISH;
      // may outlast the grace: it blocks, it waits for a nested supervisor's grace and kill timeout
      // (a body that does not end when cancelled), or its supervisor is shut down with no grace
      if (mustFinish
          && (!c.body().finite() || !endsOnCancel(c.body()) || noGrace.contains(sup.id()))) {
        mayAbandoned.add(name);
      }
      if (!endsOnCancel(c.body())) mayStraggle.add(name);
      if (must && mustFinish && stuck(c.body())) mustAbandoned.add(name);
      if (must && (mustFinish || bodyBlocksFirst) && stuckThroughCancel(c.body(), mustFinish)) {
        mustStraggle.add(name);
      }
      walk(c.body(), false);
    }
    walk(sup.body(), onPath && !escalates);
  }

  // ---- shapes

  /**
   * Whether the body ends soon after its task or scope is cancelled (not forced), with no need for
   * the clock to move: no shield around code that blocks, no supervisor whose must-finish work
   * blocks (its grace) or whose other children do not end when cancelled (grace and kill timeout).
   */
  static boolean endsOnCancel(Body b) {
    return b.stmts().stream().allMatch(Model::endsOnCancel);
  }

  private static boolean endsOnCancel(Stmt s) {
    return switch (s) {
      case Scope sc -> protects(sc) ? sc.body().finite() : endsOnCancel(sc.body());
      case Group g -> endsOnCancel(g.body()) && g.children().stream().allMatch(Model::endsOnCancel);
      case Sup sup ->
          endsOnCancel(sup.body())
              && sup.children().stream()
                  .allMatch(
                      c ->
                          c.kind() == Kind.MUST_FINISH
                              ? c.body().finite()
                              : endsOnCancel(c.body()));
      default -> true;
    };
  }

  /** A shield, unless its timeout is zero (it fires at once: the body is cancelled at entry). */
  private static boolean protects(Scope sc) {
    return sc.kind().shielded() && !(sc.kind().hasTimeout() && sc.timeoutMillis() == 0);
  }

  /**
   * Whether the body, once running, blocks until a cancellation reaches it from outside: after
   * short waits and reads, it blocks, possibly inside plain scopes and shields that no event
   * targets and no timeout ends.
   */
  private boolean stuck(Body b) {
    for (Stmt s : b.stmts()) {
      if (s instanceof Pause || s instanceof Read) continue;
      return stuck(s);
    }
    return false;
  }

  private boolean stuck(Stmt s) {
    return switch (s) {
      case Block x -> true;
      case Swallow x -> true;
      case Scope sc ->
          (sc.kind() == ScopeKind.PLAIN || sc.kind() == ScopeKind.SHIELD)
              && !touched.contains(sc.id())
              && stuck(sc.body());
      default -> false;
    };
  }

  /**
   * Whether the body, once running, keeps running past its task's cancellation and past a kill
   * timeout after it: it blocks inside a shield no event targets (at any depth of plain scopes and
   * task groups). (Nested must-finish work is only <em>may</em>: when a supervisor's grace ends,
   * the must-finish tasks of supervisors nested in its must-finish tasks are cancelled with them.)
   */
  private boolean stuckThroughCancel(Body b, boolean mustFinish) {
    for (Stmt s : b.stmts()) {
      if (s instanceof Pause || s instanceof Read) continue;
      return switch (s) {
        case Scope sc when protects(sc) ->
            sc.kind() == ScopeKind.SHIELD && !touched.contains(sc.id()) && stuck(sc.body());
        case Scope sc -> stuckThroughCancel(sc.body(), mustFinish);
        // A group in which something may fail is cancelled by it, which may interrupt a short wait
        // before the shield or cancel a child before it starts: then nothing is sure.
        case Group g ->
            !mayFail(g)
                && (stuckThroughCancel(g.body(), mustFinish)
                    || g.children().stream().anyMatch(c -> stuckThroughCancel(c, mustFinish)));
        default -> false;
      };
    }
    return false;
  }

  /**
   * Whether anything in the group may throw (a failure, a fail-form timeout, a supervisor's
   * escalation), which cancels the group at once and so may cancel tasks before they start.
   */
  private static boolean mayFail(Group g) {
    return g.children().stream().anyMatch(Model::mayFail) || mayFail(g.body());
  }

  private static boolean mayFail(Body b) {
    for (Stmt s : b.stmts()) {
      boolean f =
          switch (s) {
            case Fail x -> true;
            case Scope sc -> sc.kind() == ScopeKind.WITH_TIMEOUT || mayFail(sc.body());
            case Group g -> mayFail(g);
            case Sup sup ->
                mayFail(sup.body())
                    || sup.children().stream()
                        .anyMatch(
                            c ->
                                (c.kind() == Kind.SERVICE && c.svc().escalates())
                                    || mayFail(c.body()));
            default -> false;
          };
      if (f) return true;
    }
    return false;
  }

  @Override
  public String toString() {
    return "Model[WORK_ABANDONED "
        + workAbandoned()
        + ", abandoned must "
        + mustAbandoned
        + " may "
        + mayAbandoned
        + ", stragglers must "
        + mustStraggle
        + " may "
        + mayStraggle
        + "]";
  }
}
