package dev.lifespan.faults;

import java.util.ArrayList;
import java.util.List;

/**
 * A random program for {@link TaskTreeProperties}: a main body (statements nested into task groups,
 * supervisors and cancel scopes) and the external events applied to it while it runs. Its {@link
 * #toString()} prints it as the Java code {@link ProgramRunner} runs, so that a shrunk failing
 * program reads as a test.
 *
 * <p>Statements are numbered in the order they appear ({@link #number}): failures, scopes, groups,
 * supervisors and tasks are named after their number ({@code f3}, {@code s4}, {@code g1}, {@code
 * t2}), and events name their target by its position among the cancellable scopes or the
 * supervisors (modulo their count).
 */
record Program(Body main, List<Event> events) {

  /** A list of statements run one after the other; the first that throws ends it. */
  record Body(List<Stmt> stmts) {
    Body {
      stmts = List.copyOf(stmts);
    }

    /** Whether the body ends without being cancelled: it never blocks until cancelled. */
    boolean finite() {
      return stmts.stream().allMatch(Stmt::finite);
    }
  }

  /** One statement. {@code id} is its number, given by {@link #number}; 0 until then. */
  sealed interface Stmt {
    int id();

    boolean finite();
  }

  /** {@code throw new Failure("f<id>")}, unchecked or (checked) an {@code IOException}. */
  record Fail(int id, boolean checked) implements Stmt {
    public boolean finite() {
      return true;
    }
  }

  /** {@code Thread.sleep(FOREVER)}: ends only by cancellation. */
  record Block(int id) implements Stmt {
    public boolean finite() {
      return false;
    }
  }

  /**
   * Blocks until cancelled, swallows the {@code InterruptedException}, then calls {@code
   * CancelScope.checkpoint()}, which must throw: cancellation is level-triggered.
   */
  record Swallow(int id) implements Stmt {
    public boolean finite() {
      return false;
    }
  }

  /** {@code Thread.sleep(1 ms)}: a short real wait that only cancellation may interrupt. */
  record Pause(int id) implements Stmt {
    public boolean finite() {
      return true;
    }
  }

  /**
   * {@code LOCAL.get()}, which must return the value the main body set in the application ({@code
   * LOCAL.set(value)} first thing), at any depth; after the application ended it must throw.
   */
  record Read(int id) implements Stmt {
    public boolean finite() {
      return true;
    }
  }

  /** {@code TaskGroup.run("g<id>", g -> { g.spawn(...) for each child; body })}. */
  record Group(int id, List<Body> children, Body body) implements Stmt {
    Group {
      children = List.copyOf(children);
    }

    public boolean finite() {
      return body.finite() && children.stream().allMatch(Body::finite);
    }
  }

  /** How a supervisor's child is started. */
  enum Kind {
    SPAWN,
    FORK,
    /** Forked, and joined by the supervisor's body after it ran. */
    FORK_JOINED,
    MUST_FINISH,
    /** {@code startService}: a restartable service, described by the child's {@link Svc}. */
    SERVICE
  }

  /**
   * A restartable service's spec: its body fails ({@code throw}) the first {@code failures} times
   * it runs, then blocks until cancelled; restart policy {@code restart}, intensity {@code
   * maxRestarts} in 60 s, backoff {@code backoffMillis} (doubling, no jitter) on the fake clock.
   */
  record Svc(
      dev.lifespan.ServiceSpec.Restart restart, int failures, int maxRestarts, long backoffMillis) {
    /** Whether the supervisor must escalate once the service has run out its restarts. */
    boolean escalates() {
      return restart != dev.lifespan.ServiceSpec.Restart.TEMPORARY && failures > maxRestarts;
    }

    /** How many times the body runs if nothing cancels it (every backoff waited out). */
    int runs() {
      return restart == dev.lifespan.ServiceSpec.Restart.TEMPORARY
          ? 1
          : Math.min(failures, maxRestarts) + 1;
    }
  }

  /** A child of a supervisor; {@code svc} is set for (only) a {@link Kind#SERVICE}. */
  record Child(int id, Kind kind, Body body, Svc svc) {
    Child(int id, Kind kind, Body body) {
      this(id, kind, body, null);
    }
  }

  /**
   * {@code Supervisor.run(options "s<id>", sup -> { start each child; body; join the joined forks
   * })}.
   */
  record Sup(int id, List<Child> children, Body body) implements Stmt {
    Sup {
      children = List.copyOf(children);
    }

    public boolean finite() {
      // Supervisor.run shuts down when its body ends: it cancels ordinary children, so only the
      // body, the must-finish children and the joined forks decide whether it ends by itself.
      return body.finite()
          && children.stream()
              .filter(c -> c.kind() == Kind.MUST_FINISH || c.kind() == Kind.FORK_JOINED)
              .allMatch(c -> c.body().finite());
    }
  }

  /** The forms of cancel scope. */
  enum ScopeKind {
    /** {@code CancelScope.run}. */
    PLAIN,
    /** {@code CancelScope.run} with {@code Options.shielded()}. */
    SHIELD,
    /** {@code CancelScope.moveOnAfter(timeout)}. */
    MOVE_ON,
    /** {@code CancelScope.withTimeout(timeout)}: a timeout is a {@code TimeoutException}. */
    WITH_TIMEOUT,
    /** {@code CancelScope.run} with {@code Options.shielded().withTimeout(timeout)}. */
    SHIELD_TIMEOUT;

    boolean hasTimeout() {
      return this == MOVE_ON || this == WITH_TIMEOUT || this == SHIELD_TIMEOUT;
    }

    boolean shielded() {
      return this == SHIELD || this == SHIELD_TIMEOUT;
    }
  }

  /** A cancel scope around {@code body}, named {@code s<id>}. */
  record Scope(int id, ScopeKind kind, long timeoutMillis, Body body) implements Stmt {
    public boolean finite() {
      return body.finite();
    }
  }

  /** Something the test does to the running program, once it has settled. */
  sealed interface Event {}

  /** {@code cancel()} the cancellable scope or group at {@code index} (modulo their count). */
  record CancelEvent(int index) implements Event {}

  /** {@code shutdown(grace)} the supervisor at {@code index}, from a thread of its own. */
  record ShutdownEvent(int index, long graceMillis) implements Event {}

  /** {@code clock.advance(millis)}. */
  record AdvanceEvent(long millis) implements Event {}

  /**
   * {@code setDeadline(clock.instant() + millis)} on the cancel scope at {@code index} among the
   * scopes (modulo their count): earlier or later than its deadline, or a first one.
   */
  record DeadlineEvent(int index, long millis) implements Event {}

  /** The program with its statements numbered from 1 in the order they appear. */
  static Program number(Body main, List<Event> events) {
    int[] next = {1};
    return new Program(number(main, next), List.copyOf(events));
  }

  private static Body number(Body b, int[] next) {
    List<Stmt> out = new ArrayList<>();
    for (Stmt s : b.stmts()) out.add(number(s, next));
    return new Body(out);
  }

  private static Stmt number(Stmt s, int[] next) {
    int id = next[0]++;
    return switch (s) {
      case Fail f -> new Fail(id, f.checked());
      case Block x -> new Block(id);
      case Swallow x -> new Swallow(id);
      case Pause x -> new Pause(id);
      case Read x -> new Read(id);
      case Group g -> {
        List<Body> children = new ArrayList<>();
        for (Body c : g.children()) children.add(number(c, next));
        yield new Group(id, children, number(g.body(), next));
      }
      case Sup sup -> {
        List<Child> children = new ArrayList<>();
        for (Child c : sup.children()) {
          children.add(new Child(next[0]++, c.kind(), number(c.body(), next), c.svc()));
        }
        yield new Sup(id, children, number(sup.body(), next));
      }
      case Scope sc -> new Scope(id, sc.kind(), sc.timeoutMillis(), number(sc.body(), next));
    };
  }

  /** The scopes and groups that {@link CancelEvent}s target, in order. */
  List<Stmt> cancellables() {
    List<Stmt> out = new ArrayList<>();
    walk(main, s -> s instanceof Scope || s instanceof Group, out);
    return out;
  }

  /** The cancel scopes that {@link DeadlineEvent}s target, in order. */
  List<Stmt> scopes() {
    List<Stmt> out = new ArrayList<>();
    walk(main, s -> s instanceof Scope, out);
    return out;
  }

  /** The supervisors that {@link ShutdownEvent}s target, in order. */
  List<Stmt> supervisors() {
    List<Stmt> out = new ArrayList<>();
    walk(main, s -> s instanceof Sup, out);
    return out;
  }

  private static void walk(Body b, java.util.function.Predicate<Stmt> p, List<Stmt> out) {
    for (Stmt s : b.stmts()) {
      if (p.test(s)) out.add(s);
      switch (s) {
        case Group g -> {
          for (Body c : g.children()) walk(c, p, out);
          walk(g.body(), p, out);
        }
        case Sup sup -> {
          for (Child c : sup.children()) walk(c.body(), p, out);
          walk(sup.body(), p, out);
        }
        case Scope sc -> walk(sc.body(), p, out);
        default -> {}
      }
    }
  }

  static String name(Stmt s) {
    return switch (s) {
      case Group g -> "g" + g.id();
      case Sup sup -> "sup" + sup.id();
      case Scope sc -> "s" + sc.id();
      default -> "#" + s.id();
    };
  }

  /** The target of an event, or null if the program has none of that sort. */
  Stmt target(Event e) {
    return switch (e) {
      case CancelEvent c -> pick(cancellables(), c.index());
      case ShutdownEvent sd -> pick(supervisors(), sd.index());
      case DeadlineEvent d -> pick(scopes(), d.index());
      case AdvanceEvent a -> null;
    };
  }

  private static Stmt pick(List<Stmt> list, int index) {
    return list.isEmpty() ? null : list.get(Math.floorMod(index, list.size()));
  }

  @Override
  public String toString() {
    var sb = new StringBuilder("\n// main body of App 'tree' (FakeClock; FOREVER = 1 day)\n");
    sb.append("LOCAL.set(value);\n");
    body(sb, main, 0);
    sb.append("// then, each once everything has settled:\n");
    for (Event e : events) {
      Stmt t = target(e);
      sb.append(
          switch (e) {
            case CancelEvent c -> t == null ? "// cancel: no scope" : name(t) + ".cancel();";
            case ShutdownEvent sd ->
                t == null
                    ? "// shutdown: no supervisor"
                    : name(t) + ".shutdown(ofMillis(" + sd.graceMillis() + ")); // own thread";
            case AdvanceEvent a -> "clock.advance(ofMillis(" + a.millis() + "));";
            case DeadlineEvent d ->
                t == null
                    ? "// setDeadline: no scope"
                    : name(t) + ".setDeadline(clock.instant().plusMillis(" + d.millis() + "));";
          });
      sb.append('\n');
    }
    sb.append("app.requestShutdown(); // then advance the clock until it ends\n");
    return sb.toString();
  }

  private static void body(StringBuilder sb, Body b, int depth) {
    for (Stmt s : b.stmts()) stmt(sb, s, depth);
  }

  private static void line(StringBuilder sb, int depth, String text) {
    sb.repeat("  ", depth).append(text).append('\n');
  }

  private static void stmt(StringBuilder sb, Stmt s, int d) {
    switch (s) {
      case Fail f ->
          line(
              sb,
              d,
              "throw new "
                  + (f.checked() ? "IOException" : "IllegalStateException")
                  + "(\"f"
                  + f.id()
                  + "\");");
      case Block x -> line(sb, d, "Thread.sleep(FOREVER);");
      case Swallow x ->
          line(
              sb,
              d,
              "try { Thread.sleep(FOREVER); } catch (InterruptedException e) {} "
                  + "CancelScope.checkpoint(); // must throw");
      case Pause x -> line(sb, d, "Thread.sleep(1);");
      case Read x -> line(sb, d, "check(LOCAL.get() == value);");
      case Group g -> {
        line(sb, d, "TaskGroup.run(\"" + name(g) + "\", " + name(g) + " -> {");
        int i = 0;
        for (Body c : g.children()) {
          line(sb, d + 1, name(g) + ".spawn(\"" + name(g) + "-t" + i++ + "\", () -> {");
          body(sb, c, d + 2);
          line(sb, d + 1, "});");
        }
        body(sb, g.body(), d + 1);
        line(sb, d, "});");
      }
      case Sup sup -> {
        line(sb, d, "Supervisor.run(options(\"" + name(sup) + "\"), " + name(sup) + " -> {");
        for (Child c : sup.children()) {
          if (c.kind() == Kind.SERVICE) {
            Svc v = c.svc();
            line(
                sb,
                d + 1,
                name(sup)
                    + ".startService(ServiceSpec.of(\"t"
                    + c.id()
                    + "\", fail "
                    + v.failures()
                    + " times then Thread.sleep(FOREVER)).withRestart("
                    + v.restart()
                    + ").withIntensity("
                    + v.maxRestarts()
                    + ", ofSeconds(60)).withBackoff(ofMillis("
                    + v.backoffMillis()
                    + "), 2, ofSeconds(30)).withJitter(0));");
            continue;
          }
          String method =
              switch (c.kind()) {
                case SPAWN -> "spawn";
                case FORK, FORK_JOINED -> "fork";
                case MUST_FINISH -> "spawnMustFinish";
                case SERVICE -> throw new AssertionError();
              };
          String var = c.kind() == Kind.FORK_JOINED ? "var t" + c.id() + " = " : "";
          line(sb, d + 1, var + name(sup) + "." + method + "(\"t" + c.id() + "\", () -> {");
          body(sb, c.body(), d + 2);
          line(sb, d + 1, "});");
        }
        body(sb, sup.body(), d + 1);
        for (Child c : sup.children()) {
          if (c.kind() == Kind.FORK_JOINED) {
            line(sb, d + 1, "t" + c.id() + ".join(); // a TaskFailedException is caught, counted");
          }
        }
        line(sb, d, "});");
      }
      case Scope sc -> {
        String n = name(sc);
        String t = "ofMillis(" + sc.timeoutMillis() + ")";
        String open =
            switch (sc.kind()) {
              case PLAIN -> "CancelScope.run(named(\"" + n + "\"), " + n + " -> {";
              case SHIELD -> "CancelScope.run(named(\"" + n + "\").shielded(), " + n + " -> {";
              case MOVE_ON -> "CancelScope.moveOnAfter(" + t + ", " + n + " -> {";
              case WITH_TIMEOUT -> "CancelScope.withTimeout(" + t + ", " + n + " -> {";
              case SHIELD_TIMEOUT ->
                  "CancelScope.run(named(\""
                      + n
                      + "\").shielded().withTimeout("
                      + t
                      + "), "
                      + n
                      + " -> {";
            };
        line(sb, d, open);
        body(sb, sc.body(), d + 1);
        line(sb, d, "});");
      }
    }
  }
}
