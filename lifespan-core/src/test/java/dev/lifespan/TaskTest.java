package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.internal.FakeTimer;
import dev.lifespan.internal.ThreadFrame;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class TaskTest {
  private static final Duration FOREVER = Duration.ofDays(1);

  @Test
  void joinReturnsTheResult() throws Exception {
    TaskGroup.run(
        g -> {
          Task<String> t = g.fork("hello", () -> "world");
          assertEquals("world", t.join());
          assertEquals(Future.State.SUCCESS, t.state());
          assertTrue(t.isDone());
          assertEquals("world", t.resultNow());
          assertThrows(IllegalStateException.class, t::exceptionNow);
        });
  }

  @Test
  void joinOfAFailedTaskThrowsTaskFailedException() {
    IOException boom = new IOException("boom");
    AtomicReference<TaskFailedException> joined = new AtomicReference<>();
    TaskFailedException fromGroup =
        assertThrows(
            TaskFailedException.class,
            () ->
                TaskGroup.run(
                    g -> {
                      Task<Void> t =
                          g.spawn(
                              "io",
                              () -> {
                                throw boom;
                              });
                      // The failure cancels the group's body; the shield lets it see the failure.
                      CancelScope.run(
                          CancelScope.Options.DEFAULT.shielded(),
                          s -> {
                            try {
                              t.join();
                            } catch (TaskFailedException e) {
                              joined.set(e);
                            }
                          });
                      assertEquals(Future.State.FAILED, t.state());
                    }));
    assertSame(boom, joined.get().getCause());
    assertEquals("io", joined.get().taskName());
    assertSame(boom, fromGroup.getCause());
  }

  @Test
  void joiningAFailedSiblingInsideAFailFastGroupIsCancelledAndTheGroupReports() {
    IOException boom = new IOException("boom");
    AtomicReference<Throwable> bodySaw = new AtomicReference<>();
    TaskFailedException fromGroup =
        assertThrows(
            TaskFailedException.class,
            () ->
                TaskGroup.run(
                    g -> {
                      Task<Void> t =
                          g.spawn(
                              "io",
                              () -> {
                                throw boom;
                              });
                      try {
                        t.join();
                      } catch (RuntimeException e) {
                        bodySaw.set(e);
                        throw e;
                      }
                    }));
    assertTrue(bodySaw.get() instanceof CancelledException, String.valueOf(bodySaw.get()));
    assertSame(boom, fromGroup.getCause(), "reported once, by the group");
    assertEquals(0, fromGroup.getSuppressed().length);
  }

  @Test
  void stateAndResultAccessorsOfAFailedTask() {
    IOException boom = new IOException("boom");
    assertThrows(
        TaskFailedException.class,
        () ->
            TaskGroup.run(
                g -> {
                  Task<Void> t =
                      g.spawn(
                          "io",
                          () -> {
                            throw boom;
                          });
                  CancelScope.run(
                      CancelScope.Options.DEFAULT.shielded(),
                      s -> {
                        assertThrows(TaskFailedException.class, t::join);
                        assertSame(boom, t.exceptionNow());
                        IllegalStateException e =
                            assertThrows(IllegalStateException.class, t::resultNow);
                        assertEquals("Task 'io' has not succeeded: FAILED", e.getMessage());
                      });
                }));
  }

  @Test
  void joinOfACancelledTaskIsNotMistakenForTheCallersCancellation() throws Exception {
    TaskGroup.run(
        g -> {
          Task<Void> t = g.spawn("sleeper", () -> Thread.sleep(FOREVER));
          t.cancel();
          CancellationException e = assertThrows(CancellationException.class, t::join);
          assertFalse(e instanceof CancelledException);
          assertEquals("Task 'sleeper' was cancelled", e.getMessage());
          assertEquals(Future.State.CANCELLED, t.state());
          CancelScope.checkpoint(); // the caller itself is not cancelled
        });
  }

  @Test
  void joiningItselfIsRefused() throws Exception {
    TaskGroup.run(
        g -> {
          AtomicReference<Task<String>> self = new AtomicReference<>();
          CountDownLatch published = new CountDownLatch(1);
          Task<String> t =
              g.fork(
                  "narcissus",
                  () -> {
                    published.await();
                    IllegalStateException e =
                        assertThrows(IllegalStateException.class, () -> self.get().join());
                    assertThrows(
                        IllegalStateException.class,
                        () -> self.get().cancelAndWait(Duration.ofSeconds(1)));
                    return e.getMessage();
                  });
          self.set(t);
          published.countDown();
          assertEquals("Task 'narcissus' cannot join itself", t.join());
        });
  }

  @Test
  void callerCancelledWhileJoiningGetsItsOwnCancellation() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    TaskGroup.run(
        "owner",
        g -> {
          Task<Void> slow = g.spawn("slow", release::await);
          AtomicReference<CancelledException> seen = new AtomicReference<>();
          CancelScope caller =
              CancelScope.run(
                  CancelScope.Options.named("caller"),
                  s -> {
                    g.spawn(
                        "canceller",
                        () -> {
                          s.cancel("caller gave up");
                        });
                    try {
                      slow.join();
                    } catch (CancelledException e) {
                      seen.set(e);
                      throw e;
                    }
                  });
          assertTrue(caller.isCancelledCaught());
          assertEquals("caller", seen.get().scopeName());
          assertFalse(slow.isDone(), "the task was not cancelled by its joiner's cancellation");
          release.countDown();
          slow.join();
        });
  }

  @Test
  void foreignInterruptEndsAJoinWithAnUnnamedCancellation() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    TaskGroup.run(
        g -> {
          Task<Void> slow = g.spawn(release::await);
          Thread.currentThread().interrupt(); // not caused by any scope
          CancelledException e = assertThrows(CancelledException.class, slow::join);
          assertNull(e.scopeName());
          assertTrue(Thread.interrupted(), "the foreign interrupt is kept for its owner");
          release.countDown();
        });
  }

  @Test
  void cancelAndWaitReturnsWhenTheTaskEndsByCancellation() throws Exception {
    TaskGroup.run(
        g -> {
          CountDownLatch parked = new CountDownLatch(1);
          Task<Void> t =
              g.spawn(
                  () -> {
                    parked.countDown();
                    Thread.sleep(FOREVER);
                  });
          parked.await();
          t.cancelAndWait(Duration.ofMinutes(1));
          assertEquals(Future.State.CANCELLED, t.state());
        });
  }

  @Test
  void cancelAndWaitReturnsWhenTheTaskSucceeded() throws Exception {
    TaskGroup.run(
        g -> {
          Task<String> t = g.fork(() -> "done");
          t.join();
          t.cancelAndWait(Duration.ZERO);
          assertEquals(Future.State.SUCCESS, t.state());
        });
  }

  @Test
  void cancelAndWaitThrowsTheRealFailure() {
    IllegalStateException cleanupFailed = new IllegalStateException("cleanup failed");
    AtomicReference<TaskFailedException> seen = new AtomicReference<>();
    assertThrows(
        TaskFailedException.class,
        () ->
            TaskGroup.run(
                g -> {
                  CountDownLatch parked = new CountDownLatch(1);
                  Task<Void> t =
                      g.spawn(
                          "flaky",
                          () -> {
                            try {
                              parked.countDown();
                              Thread.sleep(FOREVER);
                            } finally {
                              throw cleanupFailed;
                            }
                          });
                  parked.await();
                  CancelScope.run(
                      CancelScope.Options.DEFAULT.shielded(),
                      s -> {
                        try {
                          t.cancelAndWait(Duration.ofMinutes(1));
                        } catch (TaskFailedException e) {
                          seen.set(e);
                        }
                      });
                }));
    assertSame(cleanupFailed, seen.get().getCause());
  }

  @Test
  void cancelAndWaitTimesOutOnATaskThatIgnoresCancellation() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    FakeTimer clock = new FakeTimer();
    ThreadFrame.withTimer(
        clock,
        x -> {
          TaskGroup.run(
              g -> {
                CountDownLatch shielded = new CountDownLatch(1);
                Task<Void> stubborn =
                    g.spawn(
                        "stubborn",
                        () ->
                            CancelScope.run(
                                CancelScope.Options.DEFAULT.shielded(),
                                s -> {
                                  shielded.countDown();
                                  release.await();
                                }));
                shielded.await();
                try {
                  Task<TimeoutException> waiter =
                      g.fork(
                          "waiter",
                          () ->
                              assertThrows(
                                  TimeoutException.class,
                                  () -> stubborn.cancelAndWait(Duration.ofSeconds(5))));
                  while (clock.pending() == 0) Thread.yield(); // the waiter's timed wait began
                  clock.advance(Duration.ofMillis(4999));
                  assertEquals(1, clock.pending(), "gave up before its timeout");
                  assertFalse(waiter.isDone());
                  clock.advance(Duration.ofMillis(1));
                  assertEquals(
                      "Task 'stubborn' did not end within PT5S after it was cancelled",
                      waiter.join().getMessage());
                  assertFalse(stubborn.isDone());
                } finally {
                  release.countDown();
                }
                stubborn.cancelAndWait(Duration.ofMinutes(1));
              });
          return null;
        });
  }

  @Test
  void taskCancelledBeforeItStartsNeverRunsItsBody() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    AtomicBoolean ran = new AtomicBoolean();
    TaskGroup.run(
        "gated",
        r ->
            Thread.ofPlatform()
                .unstarted(
                    () -> {
                      Fixtures.unchecked(gate::await);
                      r.run();
                    }),
        g -> {
          Task<Void> t = g.spawn(() -> ran.set(true));
          t.cancel();
          gate.countDown();
          assertThrows(CancellationException.class, t::join);
        });
    assertFalse(ran.get());
  }

  @Test
  void completableFutureCompletesWithTheOutcome() throws Exception {
    TaskGroup.run(
        g -> {
          CompletableFuture<String> early = g.fork(() -> "value").toCompletableFuture();
          assertEquals("value", early.get());
          Task<String> done = g.fork(() -> "late");
          done.join();
          assertEquals("late", done.toCompletableFuture().getNow(null), "already complete");
        });
  }

  @Test
  void completableFutureOfAFailedTaskCarriesTheCause() {
    IOException boom = new IOException("boom");
    AtomicReference<Throwable> cause = new AtomicReference<>();
    assertThrows(
        TaskFailedException.class,
        () ->
            TaskGroup.run(
                g -> {
                  CompletableFuture<Object> f =
                      g.fork(
                              () -> {
                                throw boom;
                              })
                          .toCompletableFuture();
                  // The failure cancels the body; the shield lets it wait for the future.
                  CancelScope.run(
                      CancelScope.Options.DEFAULT.shielded(),
                      s -> cause.set(assertThrows(ExecutionException.class, f::get).getCause()));
                }));
    assertSame(boom, cause.get());
  }

  @Test
  void cancellingTheCompletableFutureCancelsTheTask() throws Exception {
    TaskGroup.run(
        g -> {
          CountDownLatch parked = new CountDownLatch(1);
          Task<Void> t =
              g.spawn(
                  () -> {
                    parked.countDown();
                    Thread.sleep(FOREVER);
                  });
          parked.await();
          assertTrue(t.toCompletableFuture().cancel(true));
          assertThrows(CancellationException.class, t::join);
          assertEquals(Future.State.CANCELLED, t.state());
        });
  }

  @Test
  void taskToStringShowsNameAndState() throws Exception {
    TaskGroup.run(
        g -> {
          Task<Integer> t = g.fork("answer", () -> 42);
          t.join();
          assertEquals("Task[answer, SUCCESS]", t.toString());
        });
  }

  @Test
  void joinIsACheckpointEvenWhenTheTaskHasEnded() throws Exception {
    TaskGroup.run(
        g -> {
          Task<String> done = g.fork(() -> "done");
          done.join();
          CancelScope scope =
              CancelScope.run(
                  s -> {
                    s.cancel();
                    done.join(); // level-triggered: a cancelled caller never returns normally
                    throw new AssertionError("join returned in a cancelled scope");
                  });
          assertTrue(scope.isCancelledCaught());
        });
  }
}
