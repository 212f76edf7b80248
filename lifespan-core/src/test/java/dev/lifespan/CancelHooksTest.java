package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.internal.SystemTimer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link CancelScope#onCancel}: hooks for blocking calls that an interrupt does not reach. */
class CancelHooksTest {
  private static final Duration FOREVER = Duration.ofDays(1);

  @RegisterExtension final LogCapture logs = new LogCapture();

  @Test
  void aHookRunsOnceOnTheCancellingThreadWhenTheScopeIsCancelled() {
    AtomicInteger runs = new AtomicInteger();
    AtomicReference<Thread> ranOn = new AtomicReference<>();
    CancelScope.run(
        s -> {
          CancelScope.Registration r =
              s.onCancel(
                  () -> {
                    runs.incrementAndGet();
                    ranOn.set(Thread.currentThread());
                  });
          assertFalse(r.fired());
          s.cancel();
          s.cancel("again");
          assertTrue(r.fired());
        });
    assertEquals(1, runs.get());
    assertSame(Thread.currentThread(), ranOn.get());
  }

  @Test
  void aHookRegisteredInAScopeThatIsAlreadyCancelledRunsAtOnce() {
    List<String> events = new CopyOnWriteArrayList<>();
    CancelScope.run(
        outer -> {
          outer.cancel();
          CancelScope.run(
              inner -> {
                inner.onCancel(() -> events.add("hook"));
                events.add("registered");
              });
        });
    assertEquals(List.of("hook", "registered"), events);
  }

  @Test
  void aDeadlineRunsTheHookOnTheTimerThread() {
    AtomicReference<String> ranOn = new AtomicReference<>();
    CompletableFuture<Void> blocked = new CompletableFuture<>();
    var r =
        CancelScope.moveOnAfter(
            Duration.ofMillis(20),
            s -> {
              s.onCancel(
                  () -> {
                    ranOn.set(Thread.currentThread().getName());
                    blocked.complete(null);
                  });
              // not interruptible: only the hook ends it (the time limit ends a broken test)
              blocked.orTimeout(30, TimeUnit.SECONDS).join();
              return "released";
            });
    assertEquals("released", r.orElseThrow());
    assertEquals(SystemTimer.THREAD_NAME, ranOn.get());
  }

  @Test
  void anOuterCancellationReachesHooksInNestedScopesAndTasksButNotBehindAShield() throws Exception {
    List<String> ran = new CopyOnWriteArrayList<>();
    CountDownLatch registered = new CountDownLatch(2);
    CountDownLatch cancelled = new CountDownLatch(1);
    TaskGroup.run(
        g -> {
          g.spawn(
              "plain",
              () ->
                  CancelScope.run(
                      s -> {
                        s.onCancel(() -> ran.add("nested in a task"));
                        registered.countDown();
                        CancelScope.sleep(FOREVER);
                      }));
          g.spawn(
              "shielded",
              () ->
                  CancelScope.run(
                      CancelScope.Options.named("shield").shielded(),
                      s -> {
                        s.onCancel(() -> ran.add("behind a shield"));
                        registered.countDown();
                        cancelled.await(); // the shield stays open while the group is cancelled
                      }));
          registered.await();
          g.scope().cancel(); // returns once the hooks it reaches have run
          cancelled.countDown();
        });
    assertEquals(List.of("nested in a task"), ran);
  }

  @Test
  void aClosedRegistrationAndAnExitedScopeNeverRunTheHook() {
    AtomicInteger runs = new AtomicInteger();
    AtomicReference<CancelScope> exited = new AtomicReference<>();
    CancelScope.run(
        s -> {
          try (CancelScope.Registration r = s.onCancel(runs::incrementAndGet)) {
            assertFalse(r.fired());
          }
          s.cancel();
        });
    CancelScope.run(
        s -> {
          s.onCancel(runs::incrementAndGet);
          exited.set(s);
        });
    exited.get().cancel(); // after the scope closed
    assertEquals(0, runs.get());
    assertThrows(IllegalStateException.class, () -> exited.get().onCancel(() -> {}));
  }

  @Test
  void aThrowingHookIsLoggedOnceAndTheOthersStillRun() {
    List<String> ran = new CopyOnWriteArrayList<>();
    CancelScope.run(
        CancelScope.Options.named("io"),
        s -> {
          s.onCancel(() -> ran.add("first"));
          s.onCancel(
              () -> {
                throw new IllegalStateException("boom");
              });
          s.onCancel(() -> ran.add("third"));
          s.cancel();
          s.cancel();
        });
    assertEquals(List.of("first", "third"), ran);
    assertEquals(
        List.of("A cancellation hook of CancelScope 'io' threw; the others still run"),
        logs.messages());
  }

  @Test
  void aHookReleasesACallThatIgnoresInterruptsWhenATaskIsCancelled() throws Exception {
    CompletableFuture<String> reply = new CompletableFuture<>();
    CountDownLatch waiting = new CountDownLatch(1);
    AtomicReference<String> got = new AtomicReference<>();
    TaskGroup.run(
        g -> {
          Task<Void> t =
              g.spawn(
                  "call",
                  () -> {
                    CancelScope s = CancelScope.current().orElseThrow();
                    try (var r = s.onCancel(() -> reply.complete("cancelled by hook"))) {
                      waiting.countDown();
                      // join ignores interrupts (the time limit ends a broken test)
                      got.set(reply.orTimeout(30, TimeUnit.SECONDS).join());
                    }
                    CancelScope.checkpoint();
                  });
          waiting.await();
          t.cancel();
        });
    assertEquals("cancelled by hook", got.get());
  }

  @Test
  void aNullActionIsRefused() {
    CancelScope.run(
        s -> {
          var e = assertThrows(NullPointerException.class, () -> s.onCancel(null));
          assertEquals("action", e.getMessage());
        });
  }

  @Test
  void aScopeWithoutInterruptsIsCancelledByItsHooksAndCheckpointsNeverByAnInterrupt()
      throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch released = new CountDownLatch(1);
    List<String> seen = new CopyOnWriteArrayList<>();
    AtomicReference<Task<Void>> task = new AtomicReference<>();
    TaskGroup.run(
        g -> {
          task.set(
              g.spawn(
                  "db",
                  () ->
                      CancelScope.run(
                          CancelScope.Options.named("db").withoutInterrupts(),
                          s -> {
                            s.onCancel(released::countDown);
                            inside.countDown();
                            try {
                              // interruptible: an interrupt would end it with an exception
                              seen.add(released.await(30, TimeUnit.SECONDS) ? "hook" : "timeout");
                            } catch (InterruptedException e) {
                              seen.add("interrupted");
                              throw e;
                            }
                            seen.add("flag " + Thread.currentThread().isInterrupted());
                            try {
                              CancelScope.checkpoint();
                            } finally {
                              seen.add(
                                  "after checkpoint " + Thread.currentThread().isInterrupted());
                            }
                          })));
          inside.await();
          task.get().cancel();
        });
    assertEquals(List.of("hook", "flag false", "after checkpoint false"), seen);
    assertEquals(java.util.concurrent.Future.State.CANCELLED, task.get().state());
  }

  @Test
  void libraryWaitsInsideAScopeWithoutInterruptsStillEndAtOnce() throws Exception {
    CountDownLatch sleeping = new CountDownLatch(1);
    List<String> seen = new CopyOnWriteArrayList<>();
    CancelScope.run(
        CancelScope.Options.named("quiet").withoutInterrupts(),
        s ->
            TaskGroup.run(
                g -> {
                  g.spawn(
                      () -> {
                        sleeping.countDown();
                        try {
                          CancelScope.sleep(FOREVER); // woken without an interrupt
                        } catch (CancelledException e) {
                          seen.add("cancelled, flag " + Thread.currentThread().isInterrupted());
                          throw e;
                        }
                      });
                  sleeping.await();
                  s.cancel();
                }));
    assertEquals(List.of("cancelled, flag false"), seen);
  }
}
