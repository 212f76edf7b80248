package dev.lifespan.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.CheckedRunnable;
import dev.lifespan.Supervisor;
import dev.lifespan.Task;
import dev.lifespan.TaskGroup;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A task spawned into an owner (a task group, a supervisor) while the owner's scope is being
 * cancelled. The task is refused (the owner closed), or it is accepted and ends cancelled: its body
 * never runs, or it runs and is cancelled. A body that starts after the cancel returned must see
 * the cancellation at its first checkpoint: it never runs un-cancelled.
 *
 * <p>Each state has an owner thread that holds the group (or the scope around the supervisor) open
 * until the cancellation ends it, so the actors race on an open owner.
 */
public final class SpawnRaces {
  private SpawnRaces() {}

  // r1: what the spawn became
  static final int REFUSED = 0, CANCELLED = 1, SUCCEEDED = 2, FAILED = 3, THREW = 4, HUNG = 5;
  private static final int ACCEPTED = -1; // until the arbiter reads how the task ended

  // r2: what the body saw
  static final int NOT_RUN = 0, STARTED_BEFORE_CANCEL_RETURNED = 1, CHECKPOINT_THREW = 2;
  static final int CHECKPOINT_PASSED = 3;

  /** The spawn and the cancel; the owner thread is the subclass's. */
  abstract static class Racer {
    final CountDownLatch opened = new CountDownLatch(1);
    volatile boolean cancelReturned;
    volatile int ran = NOT_RUN;
    volatile Task<Void> task;
    volatile int spawn = HUNG; // the spawn actor sets it

    /** Records when the body started, and whether its first checkpoint saw the cancellation. */
    final CheckedRunnable body =
        () -> {
          boolean after = cancelReturned;
          try {
            CancelScope.checkpoint();
          } catch (CancelledException e) {
            ran = after ? CHECKPOINT_THREW : STARTED_BEFORE_CANCEL_RETURNED;
            throw e;
          }
          ran = after ? CHECKPOINT_PASSED : STARTED_BEFORE_CANCEL_RETURNED;
          // ends by the cancellation; returning normally after 30 s is a forbidden outcome
          CancelScope.sleep(Duration.ofSeconds(30));
        };

    void awaitOpened() {
      try {
        opened.await();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }

    abstract Task<Void> spawnTask();

    abstract void cancelOwner();

    void spawnActor() {
      try {
        task = spawnTask();
        spawn = ACCEPTED;
      } catch (IllegalStateException closed) {
        spawn = REFUSED;
      } catch (RuntimeException e) {
        spawn = THREW;
      }
    }

    void cancelActor() {
      cancelOwner();
      cancelReturned = true;
    }

    /** After the owner thread ended (so every task of the owner had ended). */
    void arbiter(Thread owner, II_Result r) {
      boolean ended;
      try {
        ended = owner.join(Duration.ofSeconds(60));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      Task<Void> t = task;
      if (!ended) {
        r.r1 = HUNG;
      } else if (spawn != ACCEPTED) {
        r.r1 = spawn;
      } else {
        Future.State s = t.state();
        r.r1 =
            s == Future.State.CANCELLED
                ? CANCELLED
                : s == Future.State.SUCCESS ? SUCCEEDED : s == Future.State.FAILED ? FAILED : HUNG;
      }
      r.r2 = ran;
      if (t != null) t.cancel(); // never leave a thread behind, whatever happened
    }
  }

  /** {@code TaskGroup.spawn} from another thread vs {@code TaskGroup.cancel()}. */
  @JCStressTest
  @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the group closed first: spawn refused")
  @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "accepted; cancelled before its body ran")
  @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "its body started first, then was cancelled")
  @Outcome(
      id = "1, 2",
      expect = ACCEPTABLE,
      desc = "its body started after the cancel; its first checkpoint threw")
  @Outcome(
      id = ".*, 3",
      expect = FORBIDDEN,
      desc = "its body started after the cancel and ran un-cancelled")
  @Outcome(id = "0, [123]", expect = FORBIDDEN, desc = "refused, yet its body ran")
  @Outcome(id = "2, .*", expect = FORBIDDEN, desc = "the task outlived the cancel and succeeded")
  @Outcome(id = "3, .*", expect = FORBIDDEN, desc = "the cancellation became a failure")
  @Outcome(id = "4, .*", expect = FORBIDDEN, desc = "spawn threw something else than refusal")
  @Outcome(id = "5, .*", expect = FORBIDDEN, desc = "the group did not end within 60 s")
  @Outcome(expect = FORBIDDEN, desc = "anything else")
  @State
  public static class CancelVsSpawnInGroup extends Racer {
    volatile TaskGroup group;
    final Thread owner =
        Thread.ofVirtual()
            .start(
                () ->
                    TaskGroup.run(
                        "races",
                        g -> {
                          group = g;
                          opened.countDown();
                          CancelScope.sleep(Duration.ofDays(1)); // until the group is cancelled
                        }));

    {
      awaitOpened();
    }

    @Override
    Task<Void> spawnTask() {
      return group.spawn("late", body);
    }

    @Override
    void cancelOwner() {
      group.cancel();
    }

    @Actor
    public void spawn() {
      spawnActor();
    }

    @Actor
    public void cancel() {
      cancelActor();
    }

    @Arbiter
    public void arbiter(II_Result r) {
      arbiter(owner, r);
    }
  }

  /**
   * {@code Supervisor.spawn} vs the cancellation of the scope the supervisor was opened in (which
   * cancels every ordinary task of the supervisor); the owner then closes the supervisor.
   */
  @JCStressTest
  @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the supervisor closed first: spawn refused")
  @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "accepted; cancelled before its body ran")
  @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "its body started first, then was cancelled")
  @Outcome(
      id = "1, 2",
      expect = ACCEPTABLE,
      desc = "its body started after the cancel; its first checkpoint threw")
  @Outcome(
      id = ".*, 3",
      expect = FORBIDDEN,
      desc = "its body started after the cancel and ran un-cancelled")
  @Outcome(id = "0, [123]", expect = FORBIDDEN, desc = "refused, yet its body ran")
  @Outcome(id = "2, .*", expect = FORBIDDEN, desc = "the task outlived the cancel and succeeded")
  @Outcome(id = "3, .*", expect = FORBIDDEN, desc = "the cancellation became a failure")
  @Outcome(id = "4, .*", expect = FORBIDDEN, desc = "spawn threw something else than refusal")
  @Outcome(id = "5, .*", expect = FORBIDDEN, desc = "the supervisor did not close within 60 s")
  @Outcome(expect = FORBIDDEN, desc = "anything else")
  @State
  public static class CancelVsSpawnInSupervisor extends Racer {
    volatile CancelScope scope;
    volatile Supervisor sup;
    final Thread owner =
        Thread.ofVirtual()
            .start(
                () ->
                    CancelScope.run(
                        CancelScope.Options.named("races"),
                        s -> {
                          scope = s;
                          try (Supervisor opened = Supervisor.open("races")) {
                            sup = opened;
                            this.opened.countDown();
                            CancelScope.sleep(Duration.ofDays(1)); // until the scope is cancelled
                          }
                        }));

    {
      awaitOpened();
    }

    @Override
    Task<Void> spawnTask() {
      return sup.spawn("late", body);
    }

    @Override
    void cancelOwner() {
      scope.cancel();
    }

    @Actor
    public void spawn() {
      spawnActor();
    }

    @Actor
    public void cancel() {
      cancelActor();
    }

    @Arbiter
    public void arbiter(II_Result r) {
      arbiter(owner, r);
    }
  }
}
