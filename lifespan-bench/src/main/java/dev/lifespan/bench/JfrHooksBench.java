package dev.lifespan.bench;

import dev.lifespan.CancelScope;
import dev.lifespan.CheckedRunnable;
import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Supervisor benchmark 4: the cost of Lifespan's JFR event hooks while no recording runs. The
 * operations pass through the hooks: a scope that cancels itself and absorbs the cancellation
 * ({@code ScopeNode.cancel}), tasks that fail in a supervisor ({@code TaskImpl.end}), and opening
 * and shutting down an empty supervisor ({@code SupervisorImpl.shutdownOnce}).
 *
 * <p>This class runs them with JFR off. {@link JfrHooksRecordingBench} inherits the same methods
 * and runs them in forks that start a flight recording with the events enabled, so both come out in
 * one table. Whether the hooks cost anything with JFR off is judged against the same benchmarks on
 * a build of lifespan-core without the hooks (see BENCHMARKS.md); {@link #scopeNoCancel} is a
 * control that passes through no hook.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-preview")
public class JfrHooksBench {
  static final int FAILURES = 100;

  /** Thrown by the failing tasks: preallocated, without a stack trace. */
  private static final RuntimeException FAILURE =
      new RuntimeException("expected failure", null, false, false) {};

  private static final CheckedRunnable FAIL =
      () -> {
        throw FAILURE;
      };

  private Supervisor supervisor;
  private final LongAdder handled = new LongAdder();

  @Setup(Level.Trial)
  public void open() {
    supervisor =
        Supervisor.open(
            Supervisor.Options.named("failing").withFailureHandler((t, e) -> handled.increment()));
  }

  @TearDown(Level.Trial)
  public void close() {
    ShutdownReport r = supervisor.shutdown(Duration.ofSeconds(10));
    if (!r.clean()) throw new IllegalStateException("unexpected: " + r);
  }

  /** Control: a scope that is entered and left, not cancelled. */
  @Benchmark
  public CancelScope scopeNoCancel() {
    return CancelScope.run(s -> {});
  }

  /** A scope that cancels itself and absorbs it: the ScopeCancelled hook fires once. */
  @Benchmark
  public CancelScope scopeCancelledAbsorbed() {
    return CancelScope.run(CancelScope::cancel);
  }

  /** {@value #FAILURES} tasks that fail, then awaitIdle; per failed task. */
  @Benchmark
  @OperationsPerInvocation(FAILURES)
  public void supervisorTaskFails() {
    Supervisor sup = supervisor;
    for (int i = 0; i < FAILURES; i++) sup.spawn("failing", FAIL);
    sup.awaitIdle();
  }

  /** Opens an empty supervisor and shuts it down. */
  @Benchmark
  public ShutdownReport supervisorOpenShutdown() {
    return Supervisor.run(Supervisor.Options.named("empty"), sup -> {});
  }
}
