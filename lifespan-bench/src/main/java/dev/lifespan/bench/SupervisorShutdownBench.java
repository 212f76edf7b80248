package dev.lifespan.bench;

import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
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
 * Supervisor benchmark 2: shut down a supervisor whose {@code n} tasks are blocked in {@code
 * Thread.sleep(Duration.ofDays(1))}. Single shot: the setup (opening the supervisor, spawning,
 * waiting until every task is actually parked, then a full GC so that the measured part starts with
 * an empty young generation) runs before each measured invocation and is not timed.
 *
 * <p>Lifespan: the measured part is {@code supervisor.shutdown(grace)}, which returns once every
 * task has ended (the tasks end at once when cancelled, so the grace is never waited out; the
 * report is checked after the measurement). Raw: {@code n} virtual threads; the measured part is
 * interrupting each and joining each, as in {@link CancelManyBench}.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, batchSize = 1)
@Measurement(iterations = 10, batchSize = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-preview")
public class SupervisorShutdownBench {
  private static final Duration SETUP_LIMIT = Duration.ofSeconds(60);
  private static final Duration GRACE = Duration.ofSeconds(30);

  @State(Scope.Thread)
  public static class Sup {
    @Param("100000")
    public int n;

    Supervisor supervisor;
    ShutdownReport report;

    @Setup(Level.Invocation)
    public void spawnAndPark() throws InterruptedException {
      System.gc(); // collect the previous invocation's threads outside the measurement
      Thread[] threads = new Thread[n];
      CountDownLatch parked = new CountDownLatch(n);
      supervisor = Supervisor.open("parked");
      report = null;
      for (int i = 0; i < n; i++) {
        int index = i;
        supervisor.spawn(
            "sleeper",
            () -> {
              threads[index] = Thread.currentThread();
              parked.countDown();
              Thread.sleep(Duration.ofDays(1));
            });
      }
      if (!parked.await(SETUP_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException("tasks did not start: " + parked.getCount() + " left");
      }
      Parked.awaitAllBlocked(threads, SETUP_LIMIT);
      System.gc(); // start the measurement with an empty young generation
    }

    @TearDown(Level.Invocation)
    public void check() {
      ShutdownReport r = report;
      if (r == null || r.cancelled() != n || !r.clean() || r.failed() != 0) {
        throw new IllegalStateException("unexpected shutdown: " + r);
      }
    }
  }

  @State(Scope.Thread)
  public static class Raw {
    @Param("100000")
    public int n;

    Thread[] threads;

    @Setup(Level.Invocation)
    public void spawnAndPark() throws InterruptedException {
      threads = Parked.rawSleepers(n, SETUP_LIMIT);
    }
  }

  @Benchmark
  public ShutdownReport lifespanSupervisorShutdown(Sup s) {
    return s.report = s.supervisor.shutdown(GRACE);
  }

  @Benchmark
  public void rawInterruptAndJoin(Raw s) throws InterruptedException {
    Thread[] threads = s.threads;
    for (Thread t : threads) t.interrupt();
    for (Thread t : threads) t.join();
  }
}
