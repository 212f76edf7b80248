package dev.lifespan.bench;

import dev.lifespan.TaskGroup;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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
 * Benchmark 3: cancel {@code n} children blocked in {@code Thread.sleep(Duration.ofDays(1))} and
 * wait until all have ended. Single shot: the setup (spawning, waiting until every child is
 * actually parked, then a full GC so that the measured part starts with an empty young generation)
 * runs before each measured invocation and is not timed.
 *
 * <p>Lifespan: the children are spawned into a {@link TaskGroup} whose owner is a separate platform
 * thread; the measured part is {@code group.cancel()} and waiting until {@code TaskGroup.run}
 * returned on the owner (joining the owner thread). Raw: {@code n} virtual threads; the measured
 * part is interrupting each and joining each.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, batchSize = 1)
@Measurement(iterations = 10, batchSize = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-preview")
public class CancelManyBench {
  private static final Duration SETUP_LIMIT = Duration.ofSeconds(60);

  @State(Scope.Thread)
  public static class Group {
    @Param("100000")
    public int n;

    TaskGroup group;
    Thread owner;
    final AtomicReference<Throwable> ownerFailure = new AtomicReference<>();

    @Setup(Level.Invocation)
    public void spawnAndPark() throws InterruptedException {
      System.gc(); // collect the previous invocation's threads outside the measurement
      Thread[] threads = new Thread[n];
      CountDownLatch parked = new CountDownLatch(n);
      AtomicReference<TaskGroup> ref = new AtomicReference<>();
      owner =
          Thread.ofPlatform()
              .name("group-owner")
              .start(
                  () -> {
                    try {
                      TaskGroup.run(
                          "parked",
                          g -> {
                            ref.set(g);
                            for (int i = 0; i < n; i++) {
                              int index = i;
                              g.spawn(
                                  () -> {
                                    threads[index] = Thread.currentThread();
                                    parked.countDown();
                                    Thread.sleep(Duration.ofDays(1));
                                  });
                            }
                          });
                    } catch (Throwable t) {
                      ownerFailure.set(t);
                    }
                  });
      if (!parked.await(SETUP_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException("children did not start: " + parked.getCount() + " left");
      }
      Parked.awaitAllBlocked(threads, SETUP_LIMIT);
      group = ref.get();
      System.gc(); // start the measurement with an empty young generation
    }

    @TearDown(Level.Invocation)
    public void check() {
      if (owner.isAlive()) throw new IllegalStateException("owner still running");
      Throwable t = ownerFailure.get();
      if (t != null) throw new IllegalStateException("TaskGroup.run failed", t);
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
  public void lifespanCancelGroup(Group s) throws InterruptedException {
    s.group.cancel();
    s.owner.join();
  }

  @Benchmark
  public void rawInterruptAndJoin(Raw s) throws InterruptedException {
    Thread[] threads = s.threads;
    for (Thread t : threads) t.interrupt();
    for (Thread t : threads) t.join();
  }
}
