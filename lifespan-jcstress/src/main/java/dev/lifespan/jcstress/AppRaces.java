package dev.lifespan.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.Lifespan;
import dev.lifespan.LifespanLocal;
import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import dev.lifespan.Task;
import dev.lifespan.TaskFailedException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Races inside a running application: a {@link LifespanLocal} written while a task of the same
 * application reads it, and {@link Supervisor#fireAndForget} while the application stops.
 */
public final class AppRaces {
  private AppRaces() {}

  static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- LifespanLocal.set vs a read from a task

  /**
   * One application for every state of a run, whose background supervisor runs the tasks that read
   * and write. It is started from a daemon thread, so that its runner thread is a daemon too and
   * the forked JVM exits when the run ends; it is never stopped.
   */
  static final class SharedApp {
    static final Supervisor BACKGROUND = startSharedApp();

    private SharedApp() {}
  }

  /** Outside {@link SharedApp}: its lambdas run while that class is still being initialized. */
  static Supervisor startSharedApp() {
    CompletableFuture<Supervisor> background = new CompletableFuture<>();
    Thread starter =
        Thread.ofPlatform()
            .daemon()
            .start(
                () ->
                    App.start(
                        App.Options.named("local-races").withProgress(line -> {}),
                        Lifespan.of(),
                        () -> {
                          background.complete(Supervisor.background());
                          CancelScope.sleep(Duration.ofDays(365)); // serves for the whole run
                        }));
    try {
      starter.join();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    return background.join();
  }

  static final Object OLD = "old", NEW = "new", INITIAL = "initial";

  // what a read returned
  static final int READ_OLD = 1, READ_NEW = 2, READ_INITIAL = 3, READ_OTHER = 4, READ_ISE = 5;
  static final int READ_THREW = 6;

  static int read(LifespanLocal<Object> local) {
    try {
      Object v = local.get();
      return v == OLD ? READ_OLD : v == NEW ? READ_NEW : v == INITIAL ? READ_INITIAL : READ_OTHER;
    } catch (IllegalStateException e) {
      return READ_ISE;
    } catch (RuntimeException e) {
      return READ_THREW;
    }
  }

  /**
   * Two tasks of the shared application, each parked until its actor releases it: the setter writes
   * {@link #NEW}, the reader reads once; after both, the setter reads the value left and removes
   * it. Both are tasks because the variable resolves only on the application's threads; releasing
   * both the same way keeps the race fair.
   */
  abstract static class SetVsRead {
    final CountDownLatch armed = new CountDownLatch(1);
    final CountDownLatch goSet = new CountDownLatch(1);
    final CountDownLatch goRead = new CountDownLatch(1);
    final CountDownLatch readDone = new CountDownLatch(1);
    final LifespanLocal<Object> local;
    final Task<Integer> setter;
    final Task<Integer> reader;

    SetVsRead(LifespanLocal<Object> local, boolean setOldFirst) {
      this.local = local;
      setter =
          SharedApp.BACKGROUND.fork(
              "set",
              () -> {
                try {
                  if (setOldFirst) local.set(OLD);
                } finally {
                  armed.countDown();
                }
                goSet.await();
                local.set(NEW);
                readDone.await();
                int left = read(local);
                local.remove(); // the shared application keeps no value of a finished state
                return left;
              });
      reader =
          SharedApp.BACKGROUND.fork(
              "read",
              () -> {
                goRead.await();
                try {
                  return read(local);
                } finally {
                  readDone.countDown();
                }
              });
      await(armed);
    }

    static int joined(Task<Integer> t) {
      try {
        return t.join();
      } catch (TaskFailedException | CancellationException e) {
        return READ_THREW;
      }
    }
  }

  /** {@code set} over a value already set, vs a task reading it. */
  @JCStressTest
  @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "the read saw the old value; the new one stays")
  @Outcome(id = "2, 2", expect = ACCEPTABLE, desc = "the read saw the new value; it stays")
  @Outcome(id = "5, .*", expect = FORBIDDEN, desc = "the read threw while the app runs")
  @Outcome(id = "[346], .*", expect = FORBIDDEN, desc = "the read saw another value, or threw")
  @Outcome(id = ".*, [^2]", expect = FORBIDDEN, desc = "the write was lost")
  @Outcome(expect = FORBIDDEN, desc = "anything else")
  @State
  public static class SetVsReadFromTask extends SetVsRead {
    public SetVsReadFromTask() {
      super(LifespanLocal.named("races"), true);
    }

    @Actor
    public void set() {
      goSet.countDown();
    }

    @Actor
    public void read() {
      goRead.countDown();
    }

    @Arbiter
    public void arbiter(II_Result r) {
      r.r1 = joined(reader);
      r.r2 = joined(setter);
    }
  }

  /**
   * The first {@code set} vs a task's first read of a variable with an initial value: the read sees
   * the initial value or the new one, the initial value is computed at most once, and it never
   * overwrites the set. r3 is how many times the initial value was computed.
   */
  @JCStressTest
  @Outcome(
      id = "3, 2, 1",
      expect = ACCEPTABLE,
      desc = "the read computed the initial value; the set replaced it")
  @Outcome(
      id = "2, 2, 0",
      expect = ACCEPTABLE,
      desc = "the set came first; the initial value never computed")
  @Outcome(id = "5, .*", expect = FORBIDDEN, desc = "the read threw while the app runs")
  @Outcome(id = "[146], .*", expect = FORBIDDEN, desc = "the read saw another value, or threw")
  @Outcome(id = ".*, [^2], .*", expect = FORBIDDEN, desc = "the initial value overwrote the set")
  @Outcome(id = ".*, [2-9]", expect = FORBIDDEN, desc = "the initial value computed twice")
  @Outcome(expect = FORBIDDEN, desc = "anything else")
  @State
  public static class SetVsFirstReadWithInitial extends SetVsRead {
    final AtomicInteger initialCalls;

    public SetVsFirstReadWithInitial() {
      this(new AtomicInteger());
    }

    private SetVsFirstReadWithInitial(AtomicInteger calls) {
      super(LifespanLocal.withInitial("races", initial(calls)), false);
      this.initialCalls = calls;
    }

    private static Supplier<Object> initial(AtomicInteger calls) {
      return () -> {
        calls.incrementAndGet();
        return INITIAL;
      };
    }

    @Actor
    public void set() {
      goSet.countDown();
    }

    @Actor
    public void read() {
      goRead.countDown();
    }

    @Arbiter
    public void arbiter(III_Result r) {
      r.r1 = joined(reader);
      r.r2 = joined(setter);
      r.r3 = initialCalls.get();
    }
  }

  // ---- fireAndForget vs the application's stop

  // r1: what became of the fire-and-forget task
  static final int REFUSED = 1, CANCELLED_UNRUN = 2, CANCELLED_RAN = 3, STRAGGLER = 4;
  static final int ENDED_OTHERWISE = 5, THREW = 6, OUTLIVED = 7;
  private static final int ACCEPTED = -1; // until the arbiter reads how the task ended

  // r2: how the application ended
  static final int NOT_ENDED = 0, SUCCEEDED = 1, WORK_ABANDONED = 2, OTHER_OUTCOME = 3;

  /**
   * {@code Supervisor.fireAndForget} from a thread of the application (code wrapped with {@link
   * LifespanLocal#wrap(Callable)}, run on the actor's thread) vs {@link App#requestShutdown()}: the
   * task is refused with {@link IllegalStateException} ("if that supervisor is shutting down"), or
   * it lands in the application's background supervisor, whose shutdown cancels it and waits for
   * it. It never lands anywhere the stop does not reach (the process-wide supervisor) and never
   * outlives the application unreported.
   */
  @JCStressTest
  @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "refused: the stop came first")
  @Outcome(id = "2, 1", expect = ACCEPTABLE, desc = "accepted; the stop cancelled it unstarted")
  @Outcome(id = "3, 1", expect = ACCEPTABLE, desc = "accepted, ran; the stop cancelled it")
  @Outcome(
      id = "4, 2",
      expect = ACCEPTABLE_INTERESTING,
      desc = "outlived the app, reported as a straggler (work abandoned)")
  @Outcome(id = "7, .*", expect = FORBIDDEN, desc = "outlived the application, unreported")
  @Outcome(id = "5, .*", expect = FORBIDDEN, desc = "ended otherwise than cancelled")
  @Outcome(id = "6, .*", expect = FORBIDDEN, desc = "fireAndForget threw something else")
  @Outcome(id = ".*, 0", expect = FORBIDDEN, desc = "the application did not end within 60 s")
  @Outcome(expect = FORBIDDEN, desc = "anything else")
  @State
  public static class FireAndForgetVsStop {
    final CountDownLatch ready = new CountDownLatch(1);
    volatile Callable<Task<Void>> fire;
    volatile boolean bodyRan;
    volatile Task<Void> task;
    volatile int fired;

    final App app =
        App.start(
            App.Options.named("races")
                .withProgress(line -> {})
                .withKillTimeout(Duration.ofSeconds(10)),
            Lifespan.of(),
            () -> {
              fire = LifespanLocal.wrap(() -> Supervisor.fireAndForget("late", this::late));
              ready.countDown();
              CancelScope.sleep(Duration.ofDays(1)); // until the stop cancels the main body
            });

    {
      await(ready);
    }

    void late() throws InterruptedException {
      bodyRan = true;
      Thread.sleep(Duration.ofDays(1)); // until cancelled
    }

    @Actor
    public void fire() {
      try {
        task = fire.call();
        fired = ACCEPTED;
      } catch (IllegalStateException refused) {
        fired = REFUSED;
      } catch (Exception e) {
        fired = THREW;
      }
    }

    @Actor
    public void stop() {
      app.requestShutdown();
    }

    @Arbiter
    public void arbiter(II_Result r) {
      Optional<App.Result> result;
      try {
        result = app.await(Duration.ofSeconds(60));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      Task<Void> t = task;
      if (fired != ACCEPTED) {
        r.r1 = fired;
      } else if (t.isDone()) {
        r.r1 =
            t.state() != Future.State.CANCELLED
                ? ENDED_OTHERWISE
                : bodyRan ? CANCELLED_RAN : CANCELLED_UNRUN;
      } else {
        boolean reported =
            result.isPresent()
                && result.get().stragglers().stream()
                    .map(ShutdownReport.Straggler::name)
                    .anyMatch("late"::equals);
        r.r1 = reported ? STRAGGLER : OUTLIVED;
      }
      r.r2 =
          result
              .map(
                  res ->
                      switch (res.outcome()) {
                        case SUCCEEDED -> SUCCEEDED;
                        case WORK_ABANDONED -> WORK_ABANDONED;
                        default -> OTHER_OUTCOME;
                      })
              .orElse(NOT_ENDED);
      if (t != null) t.cancel(); // never leave a thread behind, whatever happened
    }
  }
}
