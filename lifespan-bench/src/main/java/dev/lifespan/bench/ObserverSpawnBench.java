package dev.lifespan.bench;

import dev.lifespan.LifespanObserver;
import dev.lifespan.TaskGroup;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Spawn and join of one task that does nothing (and of a batch of 1,000) in a task group, with no
 * {@link LifespanObserver} registered and with one registered process-wide that counts starts and
 * ends in {@link LongAdder}s, as a metrics observer does.
 *
 * <ul>
 *   <li>{@code lifespanNoObserver}: {@code TaskGroup.run(g -> g.spawn(body))}, nothing registered
 *       (the same code as {@code ContextSpawnBench.lifespanNoPropagator});
 *   <li>{@code lifespanCountingObserver}: the same with the counting observer registered.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-preview")
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
public class ObserverSpawnBench {
  /** Tasks per operation: one, or a batch of 1,000 as in SpawnJoinBench. */
  @Param({"1", "1000"})
  public int n;

  /** A process-wide observer counting every task's start and end, for the whole trial. */
  @State(org.openjdk.jmh.annotations.Scope.Benchmark)
  public static class Counting {
    final LongAdder started = new LongAdder(), ended = new LongAdder();
    LifespanObserver.Registration registration;

    @Setup(Level.Trial)
    public void register() {
      registration =
          LifespanObserver.register(
              new LifespanObserver() {
                @Override
                public void taskStarted(Owner owner, String task, boolean mustFinish) {
                  started.increment();
                }

                @Override
                public void taskEnded(
                    Owner owner,
                    String task,
                    boolean mustFinish,
                    Future.State outcome,
                    Throwable failure) {
                  ended.increment();
                }
              });
    }

    @TearDown(Level.Trial)
    public void unregister() {
      registration.close();
      if (started.sum() != ended.sum() || started.sum() == 0) {
        throw new AssertionError("started " + started.sum() + ", ended " + ended.sum());
      }
    }
  }

  @Benchmark
  public void lifespanNoObserver() {
    TaskGroup.run(
        g -> {
          for (int i = 0; i < n; i++) g.spawn(() -> {});
        });
  }

  @Benchmark
  public void lifespanCountingObserver(Counting counting) {
    TaskGroup.run(
        g -> {
          for (int i = 0; i < n; i++) g.spawn(() -> {});
        });
  }
}
