package dev.lifespan.bench;

import dev.lifespan.CheckedRunnable;
import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import dev.lifespan.TaskGroup;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Supervisor benchmark 1: sustained fire-and-forget spawning of trivial tasks through one
 * long-lived supervisor. One operation is a batch: {@code n} spawns, then waiting until all of them
 * have ended; divide by {@code n} for the cost of one task.
 *
 * <p>Peers: raw virtual threads (start {@code n}, join {@code n}; unnamed, and named like the
 * supervisor's tasks), a TaskGroup per batch (for comparison with benchmark 1), and a long-lived
 * kotlinx {@code CoroutineScope(SupervisorJob() + Dispatchers.Default)} ({@code launch} {@code n}
 * from the calling thread, join them). The supervisor and the coroutine scope are opened once per
 * fork and live through every iteration.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-preview")
public class SupervisorSpawnBench {
  private static final Runnable NOTHING = () -> {};
  private static final CheckedRunnable NOTHING_CHECKED = () -> {};
  private static final String NAME = "worker";

  @Param("1000")
  public int n;

  private static final ScopedValue<Object> BOUND = ScopedValue.newInstance();

  private Supervisor supervisor;
  private Supervisor supervisorWithFactory;
  private SupervisorJobPeer coroutines;

  @Setup(Level.Trial)
  public void open() {
    supervisor = Supervisor.open("bench");
    supervisorWithFactory =
        Supervisor.open(
            Supervisor.Options.named("bench-factory")
                .withThreadFactory(Thread.ofVirtual().name(NAME).factory()));
    coroutines = new SupervisorJobPeer();
  }

  @TearDown(Level.Trial)
  public void close() {
    for (Supervisor s : new Supervisor[] {supervisor, supervisorWithFactory}) {
      ShutdownReport r = s.shutdown(Duration.ofSeconds(10));
      if (!r.clean() || r.failed() != 0) throw new IllegalStateException("unclean shutdown: " + r);
    }
    coroutines.close();
  }

  @Benchmark
  public void lifespanSupervisor() {
    Supervisor sup = supervisor;
    for (int i = 0; i < n; i++) sup.spawn(NAME, NOTHING_CHECKED);
    sup.awaitIdle();
  }

  /**
   * Diagnostic: a supervisor whose threads come from a named virtual-thread factory, so that
   * spawning does not call {@code Thread.setName} on each new thread (the default path does).
   */
  @Benchmark
  public void lifespanSupervisorThreadFactory() {
    Supervisor sup = supervisorWithFactory;
    for (int i = 0; i < n; i++) sup.spawn(NAME, NOTHING_CHECKED);
    sup.awaitIdle();
  }

  /** For comparison: the same batch in a TaskGroup opened and closed per batch (benchmark 1). */
  @Benchmark
  public void lifespanTaskGroup() {
    TaskGroup.run(
        g -> {
          for (int i = 0; i < n; i++) g.spawn(NOTHING_CHECKED);
        });
  }

  @Benchmark
  public void rawVirtualThreads() throws InterruptedException {
    Thread[] threads = new Thread[n];
    for (int i = 0; i < n; i++) threads[i] = Thread.ofVirtual().start(NOTHING);
    for (Thread t : threads) t.join();
  }

  /** Raw threads with a name, as the supervisor's tasks have: the cost of naming alone. */
  @Benchmark
  public void rawVirtualThreadsNamed() throws InterruptedException {
    Thread[] threads = new Thread[n];
    Thread.Builder builder = Thread.ofVirtual().name(NAME);
    for (int i = 0; i < n; i++) threads[i] = builder.start(NOTHING);
    for (Thread t : threads) t.join();
  }

  /**
   * Diagnostic: raw virtual threads whose body runs inside a {@code ScopedValue} binding, as every
   * Lifespan task's body does (its frame is bound that way): the JDK's cost of that binding alone.
   */
  @Benchmark
  public void rawVirtualThreadsScopedValue() throws InterruptedException {
    Thread[] threads = new Thread[n];
    Runnable bound = () -> ScopedValue.where(BOUND, NAME).run(NOTHING);
    for (int i = 0; i < n; i++) threads[i] = Thread.ofVirtual().start(bound);
    for (Thread t : threads) t.join();
  }

  @Benchmark
  public int kotlinSupervisorJob() {
    return coroutines.spawnBatch(n);
  }
}
