package dev.lifespan.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.lifespan.CancelledException;
import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import dev.lifespan.Task;
import dev.lifespan.TaskFailedException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * Races between a task's own end and what other threads do to it, through the public API: each
 * state is one supervisor with one task that waits for a latch, so the actor releasing the latch
 * races with the actor acting on the task.
 */
public final class TaskRaces {
  private TaskRaces() {}

  static final int SUCCEEDED = 1, CANCELLED = 2, FAILED = 3, TIMED_OUT = 4, OTHER = 5;

  /** A supervisor with one forked task that returns after {@link #release}. */
  abstract static class OneTask {
    final AtomicInteger handled = new AtomicInteger();
    final Supervisor sup =
        Supervisor.open(
            Supervisor.Options.named("races")
                .withFailureHandler((task, failure) -> handled.incrementAndGet()));
    final CountDownLatch release = new CountDownLatch(1);
    final Task<Integer> task = sup.fork("task", this::body);

    abstract Integer body() throws Exception;

    int joined() {
      try {
        return task.join() == 42 ? SUCCEEDED : OTHER;
      } catch (TaskFailedException e) {
        return FAILED;
      } catch (CancelledException e) {
        return OTHER; // the joiner's own cancellation: none of these joiners is in a scope
      } catch (CancellationException e) {
        return CANCELLED;
      }
    }

    /** Shuts the supervisor down; the failure handler's count after it. */
    int close() {
      sup.shutdown(Duration.ofSeconds(10));
      return handled.get();
    }
  }

  /**
   * {@code Task.cancel()} vs the task returning normally. It ends one way, and every observer
   * agrees: {@code join()}, {@code state()}, and a future taken before the race.
   */
  @JCStressTest
  @Outcome(
      id = "1, 1",
      expect = ACCEPTABLE,
      desc = "the task returned before the cancel reached it")
  @Outcome(id = "2, 1", expect = ACCEPTABLE, desc = "the cancel reached the task first")
  @Outcome(id = "3, .*", expect = FORBIDDEN, desc = "a cancellation became a failure")
  @Outcome(id = ".*, 0", expect = FORBIDDEN, desc = "state() or the future disagrees with join()")
  @Outcome(expect = FORBIDDEN, desc = "anything else")
  @State
  public static class CancelVsCompletion extends OneTask {
    final CompletableFuture<Integer> future = task.toCompletableFuture();

    Integer body() throws Exception {
      release.await();
      return 42;
    }

    @Actor
    public void complete() {
      release.countDown();
    }

    @Actor
    public void cancel() {
      task.cancel();
    }

    @Arbiter
    public void arbiter(II_Result r) {
      r.r1 = joined();
      r.r2 = agrees(r.r1) ? 1 : 0;
      close();
    }

    /** Whether the task's state and the future say what {@code join()} said. */
    boolean agrees(int joined) {
      Object fromFuture;
      try {
        fromFuture = future.get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        fromFuture = e.getCause();
      } catch (CancellationException e) {
        fromFuture = e;
      } catch (InterruptedException | TimeoutException e) {
        return false;
      }
      return switch (joined) {
        case SUCCEEDED ->
            task.state() == Future.State.SUCCESS && Integer.valueOf(42).equals(fromFuture);
        case CANCELLED ->
            task.state() == Future.State.CANCELLED
                && fromFuture instanceof CancellationException
                && !(fromFuture instanceof CancelledException);
        default -> false;
      };
    }
  }

  /** {@code join()} vs the task failing: the joiner gets the failure, and the handler never. */
  @JCStressTest
  @Outcome(id = "3, 0", expect = ACCEPTABLE, desc = "the joiner got the failure, once")
  @Outcome(id = "3, 1", expect = FORBIDDEN, desc = "reported twice: to the joiner and the handler")
  @Outcome(expect = FORBIDDEN, desc = "anything else")
  @State
  public static class JoinVsFailure extends OneTask {
    Integer body() throws Exception {
      release.await();
      throw new IllegalStateException("fails");
    }

    @Actor
    public void fail() {
      release.countDown();
    }

    @Actor
    public void join(II_Result r) {
      r.r1 = joined();
    }

    @Arbiter
    public void arbiter(II_Result r) {
      r.r2 = close();
    }
  }

  /** {@code cancelAndWait} vs the task's own normal end: never a failure, never a timeout. */
  @JCStressTest
  @Outcome(id = "1", expect = ACCEPTABLE, desc = "cancelAndWait returned normally")
  @Outcome(id = "3", expect = FORBIDDEN, desc = "a cancellation or a success became a failure")
  @Outcome(id = "4", expect = FORBIDDEN, desc = "timed out though the task ends at once")
  @Outcome(expect = FORBIDDEN, desc = "anything else")
  @State
  public static class CancelAndWaitVsEnd extends OneTask {
    Integer body() throws Exception {
      release.await();
      return 42;
    }

    @Actor
    public void end() {
      release.countDown();
    }

    @Actor
    public void cancelAndWait(I_Result r) {
      try {
        task.cancelAndWait(Duration.ofSeconds(10));
        r.r1 = SUCCEEDED;
      } catch (TaskFailedException e) {
        r.r1 = FAILED;
      } catch (TimeoutException e) {
        r.r1 = TIMED_OUT;
      } catch (RuntimeException e) {
        r.r1 = OTHER;
      }
    }

    @Arbiter
    public void arbiter() {
      close();
    }
  }

  /**
   * A spawn vs the supervisor's shutdown: a task accepted is one the shutdown waited for, a task
   * refused never runs, and the shutdown's report is clean (the task ends when cancelled).
   */
  @JCStressTest
  @Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "spawned first; the shutdown ended it")
  @Outcome(id = "2, 0, 1", expect = ACCEPTABLE, desc = "the shutdown came first; the spawn refused")
  @Outcome(id = "1, 0, .*", expect = FORBIDDEN, desc = "accepted, and still running after shutdown")
  @Outcome(id = "3, .*", expect = FORBIDDEN, desc = "refused, yet its body ran")
  @Outcome(id = ".*, 0", expect = FORBIDDEN, desc = "the report names a straggler")
  @Outcome(expect = FORBIDDEN, desc = "anything else")
  @State
  public static class SpawnVsShutdown {
    final Supervisor sup = Supervisor.open("races");
    volatile Task<Void> spawned;
    volatile boolean refused, ran;
    volatile ShutdownReport report;

    @Actor
    public void spawn() {
      try {
        spawned =
            sup.spawn(
                "late",
                () -> {
                  ran = true;
                  Thread.sleep(Duration.ofDays(1));
                });
      } catch (IllegalStateException e) {
        refused = true;
      }
    }

    @Actor
    public void shutdown() {
      report = sup.shutdown(Duration.ZERO);
    }

    @Arbiter
    public void arbiter(III_Result r) {
      Task<Void> t = spawned;
      // a refused task has no handle; its body must not have run either
      r.r1 = t != null ? 1 : refused && !ran ? 2 : refused ? 3 : 0;
      r.r2 = t != null && t.isDone() ? 1 : 0;
      r.r3 = report.clean() ? 1 : 0;
      if (t != null) t.cancel(); // never leave a thread behind, whatever happened
    }
  }

  /** Two concurrent shutdowns: both get the report of the one shutdown. */
  @JCStressTest
  @Outcome(id = "1", expect = ACCEPTABLE, desc = "both callers got the same report")
  @Outcome(id = "0", expect = FORBIDDEN, desc = "two different shutdowns happened")
  @State
  public static class TwoShutdowns {
    final Supervisor sup = Supervisor.open("races");
    final Task<Void> task = sup.spawn("sleeper", () -> Thread.sleep(Duration.ofDays(1)));
    volatile ShutdownReport a, b;

    @Actor
    public void first() {
      a = sup.shutdown(Duration.ZERO);
    }

    @Actor
    public void second() {
      b = sup.shutdown(Duration.ZERO);
    }

    @Arbiter
    public void arbiter(I_Result r) {
      r.r1 = a != null && a.equals(b) && task.isDone() ? 1 : 0;
    }
  }
}
