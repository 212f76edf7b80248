package dev.lifespan.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lifespan.ServiceSpec;
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
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.statistics.Statistics;

/**
 * Random task trees against the library's invariants (see {@link ProgramRunner} for the invariants
 * and {@link Model} for what a shutdown must, may and must not leave undone). Each try generates a
 * {@link Program} — task groups, supervisors (spawn, fork, fork-and-join, must-finish, restartable
 * services), cancel scopes (plain, shielded, move-on, fail-form, shielded with a timeout) nested up
 * to three deep, bodies that return, fail (checked or not), block until cancelled, swallow an
 * interrupt, wait a little, or read a {@code LifespanLocal} — and up to four external events
 * (cancel a scope or group, shut a supervisor down, move a scope's deadline, advance the fake
 * clock), runs it in an application, shuts the application down, and fails with the list of
 * violated invariants. Every shape is run: the model predicts the outcome {@code WORK_ABANDONED}
 * and the tasks it names for the shapes where work outlasts its supervisor. jqwik shrinks a failing
 * program to a small one, printed as code.
 *
 * <p>How many programs: the JUnit configuration parameter {@code jqwik.tries.default}, which the
 * build sets from the Maven property {@code lifespan.faults.tries} (200 by default, a few seconds;
 * {@code ./run.sh faults} runs 10,000: {@code ./run.sh mvn -pl lifespan-faults -am verify
 * -Dlifespan.faults.tries=10000}).
 */
class TaskTreeProperties {
  @Property(shrinking = ShrinkingMode.FULL)
  void everyInvariantHoldsForARandomTaskTree(@ForAll("programs") Program program)
      throws InterruptedException {
    ProgramRunner runner = new ProgramRunner(program);
    List<String> violations = runner.run();
    Statistics.label("outcome").collect(runner.outcome());
    Statistics.label("model: WORK_ABANDONED").collect(runner.model().workAbandoned());
    Statistics.label("service restarts").collect(bucket(runner.restarts()));
    Statistics.label("deadlines moved").collect(bucket(runner.movedDeadlines()));
    Statistics.label("LifespanLocal reads").collect(bucket(runner.reads()));
    Statistics.label("settled").collect(!runner.unsettled());
    Statistics.label("tasks").collect(bucket(runner.tasks()));
    Statistics.label("failures thrown").collect(bucket(runner.failuresThrown()));
    Statistics.label("timeouts thrown").collect(bucket(runner.timeouts()));
    assertEquals(List.of(), violations, () -> "violations in " + program);
  }

  private static String bucket(int n) {
    return n == 0 ? "0" : n == 1 ? "1" : n <= 3 ? "2-3" : "4+";
  }

  @Provide
  Arbitrary<Program> programs() {
    Arbitrary<List<Event>> events = event().list().ofMaxSize(4);
    return Combinators.combine(body(3), events).as(Program::number);
  }

  private Arbitrary<Body> body(int depth) {
    Arbitrary<Stmt> stmt =
        depth == 0
            ? leaf()
            : Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, leaf()),
                net.jqwik.api.Tuple.of(2, Arbitraries.lazy(() -> group(depth - 1))),
                net.jqwik.api.Tuple.of(3, Arbitraries.lazy(() -> supervisor(depth - 1))),
                net.jqwik.api.Tuple.of(3, Arbitraries.lazy(() -> scope(depth - 1))));
    return stmt.list().ofMaxSize(3).map(Body::new);
  }

  private Arbitrary<Stmt> leaf() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(3, Arbitraries.just(new Pause(0))),
        net.jqwik.api.Tuple.of(2, Arbitraries.of(true, false).map(c -> new Fail(0, c))),
        net.jqwik.api.Tuple.of(2, Arbitraries.just(new Block(0))),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new Swallow(0))),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new Read(0))));
  }

  private Arbitrary<Stmt> group(int depth) {
    return Combinators.combine(body(depth).list().ofMaxSize(3), body(depth))
        .as((children, body) -> new Group(0, children, body));
  }

  private Arbitrary<Stmt> supervisor(int depth) {
    Arbitrary<Svc> svc =
        Combinators.combine(
                Arbitraries.of(ServiceSpec.Restart.class),
                Arbitraries.integers().between(0, 3),
                Arbitraries.integers().between(0, 2),
                Arbitraries.of(0L, 0L, 100L))
            .as(Svc::new);
    Arbitrary<Child> child =
        Combinators.combine(Arbitraries.of(Kind.class), body(depth), svc)
            .as(
                (kind, body, s) ->
                    kind == Kind.SERVICE
                        ? new Child(0, kind, new Body(List.of()), s)
                        : new Child(0, kind, body));
    return Combinators.combine(child.list().ofMinSize(1).ofMaxSize(3), body(depth))
        .as((children, body) -> new Sup(0, children, body));
  }

  private Arbitrary<Stmt> scope(int depth) {
    return Combinators.combine(
            Arbitraries.of(ScopeKind.class),
            Arbitraries.of(0L, 100L, 500L, 1000L, 3000L),
            body(depth))
        .as((kind, timeout, body) -> new Scope(0, kind, kind.hasTimeout() ? timeout : 0, body));
  }

  private Arbitrary<Event> event() {
    return Arbitraries.oneOf(
        Arbitraries.integers().between(0, 7).map(CancelEvent::new),
        Combinators.combine(Arbitraries.integers().between(0, 3), Arbitraries.of(0L, 500L, 3000L))
            .as(ShutdownEvent::new),
        Arbitraries.of(100L, 500L, 1000L, 2000L).map(AdvanceEvent::new),
        Combinators.combine(
                Arbitraries.integers().between(0, 7), Arbitraries.of(0L, 100L, 1000L, 5000L))
            .as(DeadlineEvent::new));
  }
}
