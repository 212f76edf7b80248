package dev.lifespan.bench;

import dev.lifespan.CancelScope;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Benchmark 2: enter and leave a scope with a timeout that does not fire (ten seconds), around a
 * body that returns a value at once. One operation is one enter/exit pair.
 *
 * <p>The kotlinx peers run {@value #BATCH} {@code withTimeout} calls per {@code runBlocking} and
 * are normalised per call with {@link OperationsPerInvocation}, so that the cost of {@code
 * runBlocking} itself is spread thin. The {@code Future.get(timeout)} peers are what a pre-Loom
 * Java codebase pays for "a result, with a timeout" when the result is already there.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-preview")
public class ScopeEnterExitBench {
  static final int BATCH = 1000;
  private static final long SHARE_NOTHING_TOKENS = 64;
  private static final Duration TEN_SECONDS = Duration.ofSeconds(10);

  private Long value;
  private CompletableFuture<Long> completed;

  @Setup
  public void setup() {
    value = 42L;
    completed = CompletableFuture.completedFuture(value);
  }

  /** Baseline: a scope without deadline (nothing to arm on the timer). */
  @Benchmark
  public Long lifespanScopeNoDeadline() {
    return CancelScope.call(s -> value);
  }

  @Benchmark
  public Optional<Long> lifespanMoveOnAfter() {
    return CancelScope.moveOnAfter(TEN_SECONDS, s -> value);
  }

  @Benchmark
  public Long lifespanWithTimeout() throws TimeoutException {
    return CancelScope.withTimeout(TEN_SECONDS, s -> value);
  }

  /**
   * Two threads at once, each entering and leaving its own scopes: the shared deadline timer is
   * contended. Score is per operation of one thread.
   */
  @Benchmark
  @Threads(2)
  public Long lifespanWithTimeoutTwoThreads() throws TimeoutException {
    return CancelScope.withTimeout(TEN_SECONDS, s -> value);
  }

  /** Two threads at once, scopes without deadline: what scaling costs with no timer at all. */
  @Benchmark
  @Threads(2)
  public Long lifespanScopeNoDeadlineTwoThreads() {
    return CancelScope.call(s -> value);
  }

  /**
   * Scaling probe: share-nothing work of about the cost of one scope ({@code consumeCPU}), on one
   * thread. With {@link #shareNothingTwoThreads} it shows how far two threads scale on this machine
   * at all: the ceiling for the two-thread scope figures.
   */
  @Benchmark
  public void shareNothing() {
    Blackhole.consumeCPU(SHARE_NOTHING_TOKENS);
  }

  /** The scaling probe on two threads at once; see {@link #shareNothing}. */
  @Benchmark
  @Threads(2)
  public void shareNothingTwoThreads() {
    Blackhole.consumeCPU(SHARE_NOTHING_TOKENS);
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public long kotlinWithTimeoutEventLoop() {
    return CoroutinePeers.withTimeoutOnEventLoop(BATCH, value);
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public long kotlinWithTimeoutDefaultDispatcher() {
    return CoroutinePeers.withTimeoutOnDefault(BATCH, value);
  }

  /** Two threads at once, each with its own runBlocking on Dispatchers.Default. */
  @Benchmark
  @Threads(2)
  @OperationsPerInvocation(BATCH)
  public long kotlinWithTimeoutDefaultDispatcherTwoThreads() {
    return CoroutinePeers.withTimeoutOnDefault(BATCH, value);
  }

  @Benchmark
  public Long completedFutureGetTimeout()
      throws InterruptedException, ExecutionException, TimeoutException {
    return completed.get(10, TimeUnit.SECONDS);
  }

  @Benchmark
  public Long futureTaskInlineGetTimeout()
      throws InterruptedException, ExecutionException, TimeoutException {
    FutureTask<Long> task = new FutureTask<>(() -> value);
    task.run();
    return task.get(10, TimeUnit.SECONDS);
  }
}
