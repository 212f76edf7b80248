package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.internal.FakeTimer;
import dev.lifespan.internal.ThreadFrame;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Deadlines on the fake timer: time moves only when the test says so. */
class DeadlineTest {
  private static final Duration FOREVER = Duration.ofDays(1);
  private final FakeTimer clock = new FakeTimer();

  /** Runs {@code body} as a task whose scopes use the fake clock; the test thread drives time. */
  private void onFakeClock(ScopedRunnable<TaskGroup, Exception> body) throws Exception {
    ThreadFrame.withTimer(
        clock,
        t -> {
          TaskGroup.run("deadlines", body);
          return null;
        });
  }

  /** A scope body that publishes its scope, counts down {@code blocked}, and blocks forever. */
  private static ScopedCallable<CancelScope, String, InterruptedException> blocksUntilCancelled(
      AtomicReference<CancelScope> scope, CountDownLatch blocked) {
    return s -> {
      if (scope != null) scope.set(s);
      blocked.countDown();
      Thread.sleep(FOREVER);
      return "late";
    };
  }

  @Test
  void timeoutFiresExactlyWhenTheClockReachesIt() throws Exception {
    onFakeClock(
        g -> {
          CountDownLatch blocked = new CountDownLatch(1);
          Task<Optional<String>> task =
              g.fork(
                  () ->
                      CancelScope.moveOnAfter(
                          Duration.ofSeconds(5), blocksUntilCancelled(null, blocked)));
          blocked.await();
          clock.advance(Duration.ofMillis(4999));
          assertFalse(task.isDone(), "not yet at the deadline");
          clock.advance(Duration.ofMillis(1));
          assertEquals(Optional.empty(), task.join());
        });
    assertEquals(0, clock.pending(), "no deadline left behind");
  }

  @Test
  void failFormThrowsTimeoutException() throws Exception {
    onFakeClock(
        g -> {
          CountDownLatch blocked = new CountDownLatch(1);
          Task<TimeoutException> task =
              g.fork(
                  () -> {
                    try {
                      CancelScope.withTimeout(
                          Duration.ofSeconds(1), blocksUntilCancelled(null, blocked));
                      return null;
                    } catch (TimeoutException e) {
                      return e;
                    }
                  });
          blocked.await();
          clock.advance(Duration.ofSeconds(1));
          TimeoutException e = task.join();
          assertTrue(e.getMessage().endsWith("timed out"), e.getMessage());
          assertNull(e.getCause(), "a timeout carries no cancellation as its cause");
        });
  }

  @Test
  void deadlineMovedLaterWhileOpen() throws Exception {
    onFakeClock(
        g -> {
          AtomicReference<CancelScope> scope = new AtomicReference<>();
          CountDownLatch blocked = new CountDownLatch(1);
          Task<Optional<String>> task =
              g.fork(
                  () ->
                      CancelScope.moveOnAfter(
                          Duration.ofSeconds(5), blocksUntilCancelled(scope, blocked)));
          blocked.await();
          clock.advance(Duration.ofSeconds(3));
          scope.get().setTimeout(Duration.ofSeconds(10)); // now due at 13 s
          clock.advance(Duration.ofSeconds(9));
          assertFalse(scope.get().isCancelCalled(), "the old deadline no longer applies");
          assertFalse(task.isDone());
          clock.advance(Duration.ofSeconds(1));
          assertEquals(Optional.empty(), task.join());
          assertTrue(scope.get().isCancelledCaught());
        });
  }

  @Test
  void deadlineMovedEarlierWhileOpen() throws Exception {
    onFakeClock(
        g -> {
          AtomicReference<CancelScope> scope = new AtomicReference<>();
          CountDownLatch blocked = new CountDownLatch(1);
          Task<Optional<String>> task =
              g.fork(
                  () ->
                      CancelScope.moveOnAfter(
                          Duration.ofHours(1), blocksUntilCancelled(scope, blocked)));
          blocked.await();
          clock.advance(Duration.ofSeconds(1));
          scope.get().setDeadline(clock.now().plusSeconds(2));
          assertEquals(clock.now().plusSeconds(2), scope.get().deadline().orElseThrow());
          clock.advance(Duration.ofSeconds(1));
          assertFalse(task.isDone());
          clock.advance(Duration.ofSeconds(1));
          assertEquals(Optional.empty(), task.join());
        });
  }

  @Test
  void clearedDeadlineNeverFires() throws Exception {
    onFakeClock(
        g -> {
          AtomicReference<CancelScope> scope = new AtomicReference<>();
          CountDownLatch blocked = new CountDownLatch(1);
          CountDownLatch release = new CountDownLatch(1);
          Task<Optional<String>> task =
              g.fork(
                  () ->
                      CancelScope.moveOnAfter(
                          Duration.ofSeconds(1),
                          s -> {
                            scope.set(s);
                            s.clearDeadline();
                            blocked.countDown();
                            release.await();
                            return "done";
                          }));
          blocked.await();
          clock.advance(Duration.ofDays(365));
          assertFalse(scope.get().isCancelCalled());
          assertEquals(0, clock.pending());
          release.countDown();
          assertEquals(Optional.of("done"), task.join());
        });
  }

  @Test
  void absoluteDeadlineOnTheFakeClock() throws Exception {
    onFakeClock(
        g -> {
          Instant at = clock.now().plusSeconds(30);
          CountDownLatch blocked = new CountDownLatch(1);
          Task<Optional<String>> task =
              g.fork(
                  () ->
                      CancelScope.moveOnAt(
                          at,
                          s -> {
                            assertEquals(at, CancelScope.currentDeadline().orElseThrow());
                            blocked.countDown();
                            Thread.sleep(FOREVER);
                            return "late";
                          }));
          blocked.await();
          clock.advance(Duration.ofSeconds(30));
          assertEquals(Optional.empty(), task.join());
        });
  }

  @Test
  void innerDeadlineCancelsOnlyTheInnerScope() throws Exception {
    onFakeClock(
        g -> {
          CountDownLatch blocked = new CountDownLatch(1);
          Task<String> task =
              g.fork(
                  () ->
                      CancelScope.call(
                          outer -> {
                            Optional<String> inner =
                                CancelScope.moveOnAfter(
                                    Duration.ofSeconds(1), blocksUntilCancelled(null, blocked));
                            assertFalse(outer.isCancelCalled());
                            assertFalse(Thread.currentThread().isInterrupted());
                            CancelScope.checkpoint();
                            return inner.orElse("inner timed out");
                          }));
          blocked.await();
          clock.advance(Duration.ofSeconds(1));
          assertEquals("inner timed out", task.join());
        });
  }

  @Test
  void groupDeadlineCancelsEveryChild() throws Exception {
    onFakeClock(
        g -> {
          CountDownLatch started = new CountDownLatch(3);
          Task<Void> inner =
              g.spawn(
                  () ->
                      TaskGroup.run(
                          "inner",
                          ig -> {
                            ig.scope().setTimeout(Duration.ofSeconds(2));
                            for (int i = 0; i < 3; i++) {
                              ig.spawn(
                                  () -> {
                                    started.countDown();
                                    Thread.sleep(FOREVER);
                                  });
                            }
                          }));
          started.await();
          clock.advance(Duration.ofSeconds(2));
          inner.join(); // the inner group absorbed its own deadline
          assertEquals(Future_State_SUCCESS, inner.state());
        });
  }

  private static final java.util.concurrent.Future.State Future_State_SUCCESS =
      java.util.concurrent.Future.State.SUCCESS;

  @Test
  void sleepEndsWhenTheClockReachesItsDuration() throws Exception {
    onFakeClock(
        g -> {
          CountDownLatch sleeping = new CountDownLatch(1);
          Task<String> t =
              g.fork(
                  () -> {
                    sleeping.countDown();
                    CancelScope.sleep(Duration.ofSeconds(10));
                    return "woke";
                  });
          sleeping.await();
          while (clock.pending() == 0) Thread.onSpinWait(); // until the sleep's deadline is armed
          clock.advance(Duration.ofSeconds(9));
          assertFalse(t.isDone());
          clock.advance(Duration.ofSeconds(1));
          assertEquals("woke", t.join());
        });
  }

  @Test
  void sleepIsACheckpoint() throws Exception {
    CancelScope scope =
        CancelScope.run(
            s -> {
              s.cancel();
              CancelScope.sleep(Duration.ofDays(1));
              throw new AssertionError("slept through a cancellation");
            });
    assertTrue(scope.isCancelledCaught());
    assertThrows(IllegalArgumentException.class, () -> CancelScope.sleep(Duration.ofSeconds(-1)));
  }

  // ---- a timeout is never a cancellation (regressions: the TimeoutException carried the
  // absorbed CancelledException as its cause, and cause chains were matched, so each of these
  // ended as a quiet cancellation)

  /** A task whose body runs a shielded fail-form timeout, and the latch it counts down. */
  private static Callable<Void> shieldedTimeout(CountDownLatch blocked) {
    return () -> {
      CancelScope.run(
          CancelScope.Options.named("cleanup").shielded(),
          s -> CancelScope.withTimeout(Duration.ofSeconds(1), blocksUntilCancelled(null, blocked)));
      return null;
    };
  }

  @Test
  void shieldedTimeoutInACancelledTaskFailsTheTask() throws Exception {
    AtomicReference<Task<Void>> worker = new AtomicReference<>();
    TaskFailedException e =
        assertThrows(
            TaskFailedException.class,
            () ->
                onFakeClock(
                    g -> {
                      CountDownLatch blocked = new CountDownLatch(1);
                      worker.set(g.fork("worker", shieldedTimeout(blocked)));
                      blocked.await();
                      worker.get().cancel();
                      clock.advance(Duration.ofSeconds(1));
                    }));
    assertEquals(Future.State.FAILED, worker.get().state());
    assertInstanceOf(TimeoutException.class, worker.get().exceptionNow());
    assertInstanceOf(TimeoutException.class, e.getCause());
  }

  @Test
  void cancelAndWaitThrowsATimeoutThatFiredAfterTheCancel() throws Exception {
    AtomicReference<Throwable> seen = new AtomicReference<>();
    ThreadFrame.withTimer( // a supervisor: the worker's failure must not cancel the waiter
        clock,
        t ->
            Supervisor.run(
                Supervisor.Options.named("cancel-and-wait"),
                sup -> {
                  CountDownLatch blocked = new CountDownLatch(1);
                  Task<Void> worker = sup.fork("worker", shieldedTimeout(blocked));
                  blocked.await();
                  worker.cancel(); // before the timeout fires
                  Thread advancer =
                      Thread.ofPlatform().start(() -> clock.advance(Duration.ofSeconds(1)));
                  try {
                    worker.cancelAndWait(FOREVER);
                  } catch (TaskFailedException failed) {
                    seen.set(failed.getCause());
                  }
                  advancer.join();
                }));
    assertInstanceOf(TimeoutException.class, seen.get(), "cancelAndWait returned normally");
  }

  @Test
  void cancelledGroupThrowsAWorkersShieldedTimeout() throws Exception {
    TaskFailedException e =
        assertThrows(
            TaskFailedException.class,
            () ->
                onFakeClock(
                    g -> {
                      CountDownLatch blocked = new CountDownLatch(1);
                      g.fork("worker", shieldedTimeout(blocked));
                      blocked.await();
                      g.cancel();
                      clock.advance(Duration.ofSeconds(1));
                    }));
    assertEquals("worker", e.taskName());
    assertInstanceOf(TimeoutException.class, e.getCause());
  }

  // ---- deadlines are total (regression: deadlines more than ~292 years away overflowed the
  // clamped nanoTime arithmetic; a year-1700 deadline never fired)

  private static final Instant YEAR_1700 = Instant.parse("1700-01-01T00:00:00Z");

  // These run on the system clock: its nanoTime is far from zero, where the overflow happened.

  @Test
  void moveOnAtInstantMinCancelsAtOnce() throws Exception {
    assertEquals(
        Optional.empty(),
        CancelScope.moveOnAt(Instant.MIN, blocksUntilCancelled(null, new CountDownLatch(1))));
  }

  @Test
  void withDeadlineFarInThePastTimesOutAtOnce() {
    assertThrows(
        TimeoutException.class,
        () ->
            CancelScope.withDeadline(YEAR_1700, blocksUntilCancelled(null, new CountDownLatch(1))));
  }

  @Test
  void setDeadlineFarInThePastCancelsAnOpenScope() throws Exception {
    CancelScope scope =
        CancelScope.run(
            s -> {
              s.setDeadline(YEAR_1700);
              Thread.sleep(FOREVER);
            });
    assertTrue(scope.isCancelledCaught());
  }

  @Test
  void instantMaxAndHugeTimeoutsNeverFire() throws Exception {
    onFakeClock(
        g -> {
          CountDownLatch blocked = new CountDownLatch(2);
          Task<Optional<String>> atMax =
              g.fork(() -> CancelScope.moveOnAt(Instant.MAX, blocksUntilCancelled(null, blocked)));
          Task<Optional<String>> huge =
              g.fork(
                  () ->
                      CancelScope.moveOnAfter(
                          Duration.ofSeconds(Long.MAX_VALUE), blocksUntilCancelled(null, blocked)));
          blocked.await();
          clock.advance(Duration.ofDays(365L * 100));
          assertFalse(atMax.isDone(), "Instant.MAX fired");
          assertFalse(huge.isDone(), "a timeout of Long.MAX_VALUE seconds fired");
          g.cancel();
        });
  }
}
