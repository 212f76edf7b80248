package dev.lifespan.bench;

import dev.lifespan.TaskGroup;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Benchmark 1: spawn {@code n} trivial tasks and wait until all have ended. One operation is the
 * whole batch; divide by {@code n} for the cost of one task.
 *
 * <p>Peers: raw virtual threads ({@code Thread.ofVirtual().start} + {@code join}), a
 * virtual-thread-per-task executor (submit all, {@code close}), the JDK 25 preview {@link
 * StructuredTaskScope} with {@code Joiner.awaitAll()}, and kotlinx-coroutines ({@code
 * coroutineScope { repeat(n) { launch {} } }} on {@code Dispatchers.Default}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-preview")
public class SpawnJoinBench {
  private static final Runnable NOTHING = () -> {};

  @Param("1000")
  public int n;

  @Benchmark
  public void lifespanTaskGroup() {
    TaskGroup.run(
        g -> {
          for (int i = 0; i < n; i++) g.spawn(() -> {});
        });
  }

  @Benchmark
  public void rawVirtualThreads() throws InterruptedException {
    Thread[] threads = new Thread[n];
    for (int i = 0; i < n; i++) threads[i] = Thread.ofVirtual().start(NOTHING);
    for (Thread t : threads) t.join();
  }

  @Benchmark
  public void virtualThreadPerTaskExecutor() {
    try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < n; i++) executor.submit(NOTHING);
    }
  }

  @Benchmark
  public void structuredTaskScope() throws InterruptedException {
    try (var scope = StructuredTaskScope.open(StructuredTaskScope.Joiner.awaitAll())) {
      for (int i = 0; i < n; i++) scope.fork(NOTHING);
      scope.join();
    }
  }

  @Benchmark
  public int kotlinCoroutines() {
    return CoroutinePeers.spawnJoin(n);
  }
}
