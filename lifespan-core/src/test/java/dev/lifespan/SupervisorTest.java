package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.internal.FakeTimer;
import dev.lifespan.internal.ThreadFrame;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SupervisorTest {
  private static final Duration FOREVER = Duration.ofDays(1);
  @RegisterExtension final LogCapture logs = new LogCapture();

  /** Failures the handler received, as "task: message". */
  private final List<String> reported = new CopyOnWriteArrayList<>();

  private Supervisor.Options options(String name) {
    return Supervisor.Options.named(name)
        .withFailureHandler(
            (task, failure) -> reported.add(task.name() + ": " + failure.getMessage()));
  }

  @Test
  void aFailureIsReportedOnceAndCancelsNothing() throws Exception {
    CountDownLatch siblingRunning = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<Task<Void>> sibling = new AtomicReference<>();
    ShutdownReport report =
        Supervisor.run(
            options("iso"),
            sup -> {
              sibling.set(
                  sup.spawn(
                      "sibling",
                      () -> {
                        siblingRunning.countDown();
                        release.await();
                      }));
              siblingRunning.await();
              Task<Void> failing =
                  sup.spawn(
                      "flaky",
                      () -> {
                        throw new IOException("disk full");
                      });
              assertThrows(TaskFailedException.class, failing::join);
              assertEquals(Supervisor.State.RUNNING, sup.state());
              assertFalse(sibling.get().isDone(), "the sibling was not cancelled");
              CancelScope.checkpoint(); // nor was the owner
              release.countDown();
              sup.awaitIdle();
            });
    assertEquals(List.of("flaky: disk full"), reported);
    assertEquals(Future.State.SUCCESS, sibling.get().state());
    assertTrue(report.clean());
  }

  @Test
  void tenChildrenFailingAtOnceAreTenReports() throws Exception {
    CyclicBarrier together = new CyclicBarrier(10);
    Supervisor.run(
        options("storm"),
        sup -> {
          for (int i = 0; i < 10; i++) {
            int id = i;
            sup.spawn(
                "c" + id,
                () -> {
                  together.await();
                  throw new IllegalStateException("failure " + id);
                });
          }
          sup.awaitIdle();
        });
    assertEquals(10, reported.size(), reported.toString());
    assertEquals(10, Set.copyOf(reported).size());
  }

  @Test
  void optionsConstructedDirectlyAreCheckedAsTheWithMethodsCheckThem() {
    Duration s = Duration.ofSeconds(1);
    IllegalArgumentException grace =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Supervisor.Options("sup", s.negated(), s, null, null));
    assertEquals("grace < 0: PT-1S (supervisor 'sup')", grace.getMessage());
    IllegalArgumentException kill =
        assertThrows(
            IllegalArgumentException.class,
            () -> Supervisor.Options.named("sup").withKillTimeout(s.negated()));
    assertEquals("killTimeout < 0: PT-1S (supervisor 'sup')", kill.getMessage());
    NullPointerException name =
        assertThrows(
            NullPointerException.class, () -> new Supervisor.Options(null, s, s, null, null));
    assertEquals("name", name.getMessage());
    assertEquals(
        Supervisor.Options.named("sup").withGrace(s),
        new Supervisor.Options("sup", s, Supervisor.Options.DEFAULT_KILL_TIMEOUT, null, null));
  }

  @Test
  void aThrowingHandlerIsContained() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Supervisor.Options o =
        Supervisor.Options.named("bad-handler")
            .withFailureHandler(
                (task, failure) -> {
                  calls.incrementAndGet();
                  throw new IllegalStateException("handler bug");
                });
    ShutdownReport report =
        Supervisor.run(
            o,
            sup -> {
              Task<Void> t =
                  sup.spawn(
                      "x",
                      () -> {
                        throw new IOException("boom");
                      });
              sup.awaitIdle();
              assertEquals(Future.State.FAILED, t.state());
              assertEquals(Supervisor.State.RUNNING, sup.state());
            });
    assertEquals(1, calls.get(), "called once; its exception did not escape");
    assertTrue(report.clean());
    LogRecord logged = logs.single(Level.SEVERE);
    assertEquals(
        "The failure handler of supervisor 'bad-handler' threw while reporting task 'x'",
        logged.getMessage());
    assertEquals("handler bug", logged.getThrown().getMessage());
  }

  @Test
  void cancellationsAreNotFailures() throws Exception {
    Supervisor.run(
        options("cancels"),
        sup -> {
          CountDownLatch parked = new CountDownLatch(1);
          Task<Void> t =
              sup.spawn(
                  "sleeper",
                  () -> {
                    parked.countDown();
                    Thread.sleep(FOREVER);
                  });
          parked.await();
          t.cancelAndWait(Duration.ofMinutes(1));
          assertEquals(Future.State.CANCELLED, t.state());
        });
    assertEquals(List.of(), reported);
  }

  @Test
  void aForkedFailureGoesToItsJoinerNotTheHandler() throws Exception {
    Supervisor.run(
        options("forks"),
        sup -> {
          Task<String> t =
              sup.fork(
                  "report",
                  () -> {
                    throw new IOException("no data");
                  });
          TaskFailedException e = assertThrows(TaskFailedException.class, t::join);
          assertEquals("no data", e.getCause().getMessage());
        });
    assertEquals(List.of(), reported, "the joiner took it");
  }

  @Test
  void aForkedFailureNobodyJoinedGoesToTheHandlerAtShutdown() throws Exception {
    Supervisor.run(
        options("orphans"),
        sup -> {
          Task<String> t =
              sup.fork(
                  "report",
                  () -> {
                    throw new IOException("no data");
                  });
          sup.awaitIdle();
          assertEquals(Future.State.FAILED, t.state());
          assertEquals(List.of(), reported, "held for a joiner until shutdown");
        });
    assertEquals(List.of("report: no data"), reported);
  }

  @Test
  void mustFinishTaskCompletesWhileOrdinarySiblingsAreCancelled() throws Exception {
    CountDownLatch started = new CountDownLatch(2);
    CountDownLatch pollerCancelled = new CountDownLatch(1);
    List<String> log = new CopyOnWriteArrayList<>();
    ShutdownReport report =
        Supervisor.run(
            options("orders"),
            sup -> {
              sup.spawnMustFinish(
                  "confirm order 7",
                  () -> {
                    started.countDown();
                    pollerCancelled.await(); // shutdown began; this task is not interrupted
                    log.add("confirmed");
                  });
              sup.spawn(
                  "poller",
                  () -> {
                    started.countDown();
                    try {
                      Thread.sleep(FOREVER);
                    } catch (InterruptedException e) {
                      log.add("poller cancelled");
                      pollerCancelled.countDown();
                      throw e;
                    }
                  });
              started.await();
            });
    assertEquals(List.of("poller cancelled", "confirmed"), log);
    assertEquals(1, report.completed());
    assertEquals(1, report.cancelled());
    assertTrue(report.clean(), report.toString());
  }

  /**
   * One budget: must-finish work of a supervisor nested inside a must-finish task is cut when the
   * outer grace ends, not given a grace of its own (here an hour) that starts only then.
   */
  @Test
  void nestedMustFinishWorkIsCancelledWhenTheOuterGraceEnds() throws Exception {
    CountDownLatch running = new CountDownLatch(2);
    List<String> log = new CopyOnWriteArrayList<>();
    Supervisor outer = Supervisor.open(options("outer").withKillTimeout(Duration.ofMinutes(1)));
    outer.spawnMustFinish(
        "send batch",
        () ->
            Supervisor.run(
                options("inner").withGrace(Duration.ofHours(1)),
                inner -> {
                  inner.spawnMustFinish(
                      "send item",
                      () -> {
                        running.countDown();
                        try {
                          Thread.sleep(FOREVER);
                        } catch (InterruptedException e) {
                          log.add("item cancelled");
                          throw e;
                        }
                      });
                  running.countDown();
                  Thread.sleep(FOREVER);
                }));
    running.await();
    ShutdownReport report = outer.shutdown(Duration.ZERO);
    assertEquals(List.of("item cancelled"), log);
    assertEquals(List.of("send batch", "send item"), report.abandoned());
    assertTrue(report.stragglers().isEmpty(), report.toString());
    assertTrue(report.took().compareTo(Duration.ofMinutes(1)) < 0, report.toString());
  }

  @Test
  void stragglerIgnoringCancellationIsReportedWithItsStack() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch cancelled = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    FakeTimer clock = new FakeTimer();
    Supervisor sup =
        ThreadFrame.withTimer(
            clock,
            x -> Supervisor.open(options("stubborn").withKillTimeout(Duration.ofSeconds(2))));
    Task<Void> t = sup.spawn("deaf", Fixtures.ignoresCancellation(running, release, cancelled));
    running.await();
    FutureTask<ShutdownReport> shutdown =
        new FutureTask<>(() -> sup.shutdown(Duration.ofSeconds(10)));
    Thread.ofPlatform().name("shutdown").start(shutdown);
    try {
      shutdownTimeline(clock, sup, shutdown, cancelled);
    } finally {
      release.countDown();
    }
    t.join();
  }

  /** The shutdown of {@code sup} as a timeline: grace 10 s, kill timeout 2 s, one straggler. */
  private static void shutdownTimeline(
      FakeTimer clock,
      Supervisor sup,
      FutureTask<ShutdownReport> shutdown,
      CountDownLatch cancelled)
      throws Exception {
    cancelled.await(); // cancelled at once, and ignores it: the shutdown waits out the grace
    awaitPending(clock);
    clock.advance(Duration.ofMillis(9999));
    assertEquals(1, clock.pending(), "the grace period ended early");
    assertFalse(shutdown.isDone());
    clock.advance(Duration.ofMillis(1));
    awaitPending(clock); // the kill timeout began
    clock.advance(Duration.ofMillis(1999));
    assertEquals(1, clock.pending(), "the kill timeout ended early");
    assertFalse(shutdown.isDone());
    clock.advance(Duration.ofMillis(1));
    ShutdownReport report = shutdown.get(1, TimeUnit.MINUTES);
    assertEquals(1, report.stragglers().size(), report.toString());
    ShutdownReport.Straggler s = report.stragglers().get(0);
    assertEquals("deaf", s.name());
    assertFalse(s.mustFinish());
    // its body's frame: at that instant it waits again, or is still counting an interrupt
    assertTrue(
        s.stackTrace().stream().anyMatch(e -> e.getMethodName().contains("ignoresCancellation")),
        report.toString());
    assertTrue(report.toString().contains("straggler 'deaf'"), report.toString());
    assertEquals(Supervisor.State.TERMINATED, sup.state());
  }

  /** Waits until a thread has begun a timed wait on {@code clock}: the test may then move it. */
  private static void awaitPending(FakeTimer clock) {
    while (clock.pending() == 0) Thread.yield();
  }

  @Test
  void concurrentShutdownsShareOneReport() throws Exception {
    Supervisor sup = Supervisor.open(options("shared"));
    sup.spawn("sleeper", () -> Thread.sleep(FOREVER));
    int n = 4;
    CyclicBarrier together = new CyclicBarrier(n);
    List<ShutdownReport> reports = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      threads.add(
          Thread.ofVirtual()
              .start(
                  () ->
                      Fixtures.unchecked(
                          () -> {
                            together.await();
                            reports.add(sup.shutdown(Duration.ofSeconds(5)));
                          })));
    }
    for (Thread t : threads) t.join();
    assertEquals(n, reports.size());
    for (ShutdownReport r : reports) assertSame(reports.get(0), r);
    assertEquals(1, reports.get(0).cancelled());
  }

  @Test
  void spawnRacingShutdownIsRunOrRefusedNeverDropped() throws Exception {
    for (int round = 0; round < 50; round++) {
      Supervisor sup = Supervisor.open(options("race-" + round));
      AtomicInteger ran = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      List<Task<Void>> accepted = new CopyOnWriteArrayList<>();
      CountDownLatch go = new CountDownLatch(1);
      Thread spawner =
          Thread.ofVirtual()
              .start(
                  () -> {
                    Fixtures.unchecked(go::await);
                    for (int i = 0; i < 100; i++) {
                      try {
                        accepted.add(sup.spawn("t" + i, ran::incrementAndGet));
                      } catch (IllegalStateException e) {
                        assertTrue(e.getMessage().contains("cannot spawn task 't" + i + "'"));
                        refused.incrementAndGet();
                      }
                    }
                  });
      go.countDown();
      ShutdownReport report = sup.shutdown(Duration.ofSeconds(5));
      spawner.join();
      assertEquals(100, accepted.size() + refused.get());
      assertTrue(report.clean());
      int succeeded = 0;
      for (Task<Void> t : accepted) {
        assertTrue(t.isDone(), "accepted but never ended: " + t);
        if (t.state() == Future.State.SUCCESS) succeeded++;
        else assertEquals(Future.State.CANCELLED, t.state());
      }
      assertEquals(ran.get(), succeeded, "every accepted task ran or was cancelled");
    }
  }

  @Test
  void waitingForTheSupervisorFromItsOwnTaskIsRefused() throws Exception {
    Supervisor.run(
        options("self"),
        sup -> {
          Task<String> t =
              sup.fork(
                  "inside",
                  () -> {
                    IllegalStateException e =
                        assertThrows(IllegalStateException.class, sup::awaitIdle);
                    assertThrows(IllegalStateException.class, () -> sup.shutdown(Duration.ZERO));
                    return e.getMessage();
                  });
          assertEquals(
              "Supervisor 'self' cannot wait until idle from its own task 'inside'", t.join());
        });
  }

  @Test
  void cancellingTheOpenersScopeReachesEveryTask() throws Exception {
    CountDownLatch parked = new CountDownLatch(3);
    List<Task<Void>> tasks = new ArrayList<>();
    CancelScope scope =
        CancelScope.run(
            s -> {
              try (Supervisor sup = Supervisor.open(options("nested"))) {
                for (int i = 0; i < 3; i++) {
                  tasks.add(
                      sup.spawn(
                          "t" + i,
                          () -> {
                            parked.countDown();
                            Thread.sleep(FOREVER);
                          }));
                }
                parked.await();
                s.cancel("owner going away");
                for (Task<Void> t : tasks) {
                  CancelScope.run(
                      CancelScope.Options.DEFAULT.shielded(),
                      x -> assertThrows(java.util.concurrent.CancellationException.class, t::join));
                }
              }
            });
    assertTrue(scope.isCancelledCaught());
    for (Task<Void> t : tasks) assertEquals(Future.State.CANCELLED, t.state());
    assertEquals(List.of(), reported);
  }

  @Test
  void fatalErrorAbortsTheSupervisorAndReachesTheOwner() {
    OutOfMemoryError oom = new OutOfMemoryError("simulated");
    CountDownLatch mustFinishRunning = new CountDownLatch(1);
    AtomicReference<Task<Void>> mustFinish = new AtomicReference<>();
    OutOfMemoryError thrown =
        assertThrows(
            OutOfMemoryError.class,
            () ->
                Supervisor.run(
                    options("fatal"),
                    sup -> {
                      mustFinish.set(
                          sup.spawnMustFinish(
                              "important",
                              () -> {
                                mustFinishRunning.countDown();
                                Thread.sleep(FOREVER);
                              }));
                      mustFinishRunning.await();
                      sup.spawn(
                          "hog",
                          () -> {
                            throw oom;
                          });
                      Thread.sleep(FOREVER); // the abort cancels the body too
                    }));
    assertSame(oom, thrown);
    assertEquals(Future.State.CANCELLED, mustFinish.get().state(), "everything is cancelled");
    assertEquals(List.of(), reported, "the error goes to the owner, not the handler");
  }

  @Test
  void spawningAfterShutdownIsRefusedWithAClearMessage() {
    Supervisor sup = Supervisor.open(options("done"));
    sup.close();
    assertEquals(Supervisor.State.TERMINATED, sup.state());
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> sup.spawn("late", () -> {}));
    assertEquals("Supervisor 'done' is TERMINATED; cannot spawn task 'late'", e.getMessage());
  }

  @Test
  void aSupervisorLeftOpenIsShutDownWhenItsScopeEnds() throws Exception {
    AtomicReference<Supervisor> leaked = new AtomicReference<>();
    AtomicReference<Task<Void>> task = new AtomicReference<>();
    CancelScope.run(
        s -> {
          Supervisor sup = Supervisor.open(options("forgotten"));
          leaked.set(sup);
          task.set(sup.spawn("sleeper", () -> Thread.sleep(FOREVER)));
        });
    assertEquals(Supervisor.State.TERMINATED, leaked.get().state());
    assertEquals(Future.State.CANCELLED, task.get().state());
    assertEquals(
        "Supervisor 'forgotten' was still open when the scope it was opened in ended;"
            + " shutting it down",
        logs.single(Level.WARNING).getMessage());
  }

  @Test
  void manyTasksRetainNothing() throws Exception {
    int n = "long".equals(System.getProperty("lifespan.stress.mode")) ? 1_000_000 : 100_000;
    Supervisor.run(
        options("churn"),
        sup -> {
          sup.spawn("warm-up", () -> {});
          sup.awaitIdle();
          long before = usedHeapAfterGc();
          for (int i = 0; i < n; i++) {
            sup.spawn("t", () -> {});
            if (i % 10_000 == 0) sup.awaitIdle();
          }
          sup.awaitIdle();
          long growth = usedHeapAfterGc() - before;
          // A retained task costs hundreds of bytes: n of them would be tens of megabytes.
          assertTrue(growth < 8L << 20, "heap grew by " + growth + " bytes over " + n + " tasks");
          assertEquals("Supervisor[churn, RUNNING, running=0]", sup.toString());
        });
  }

  @Test
  void aServicePastItsRestartIntensityEscalatesToTheOwner() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    ServiceSpec flaky =
        ServiceSpec.of(
                "flaky-feed",
                () -> {
                  throw new IOException("feed down #" + runs.incrementAndGet());
                })
            .withBackoff(Duration.ZERO, 1, Duration.ZERO)
            .withJitter(0)
            .withIntensity(3, Duration.ofHours(1));
    SupervisorFailedException e =
        assertThrows(
            SupervisorFailedException.class,
            () ->
                Supervisor.run(
                    options("feeds"),
                    sup -> {
                      sup.startService(flaky);
                      Thread.sleep(FOREVER); // the escalation cancels the owner's body
                    }));
    assertEquals(4, runs.get(), "the first run and 3 restarts");
    assertEquals("feed down #4", e.getCause().getMessage());
    assertEquals("feeds", e.supervisorName());
    assertTrue(e.getMessage().contains("flaky-feed"), e.getMessage());
    assertEquals(List.of(), reported, "escalated to the owner, not reported to the handler");
    assertEquals(
        List.of(
            "Service 'flaky-feed' of supervisor 'feeds' restarting (attempt 1) in 0 ms after"
                + " failure: java.io.IOException: feed down #1",
            "Service 'flaky-feed' of supervisor 'feeds' restarting (attempt 2) in 0 ms after"
                + " failure: java.io.IOException: feed down #2",
            "Service 'flaky-feed' of supervisor 'feeds' restarting (attempt 3) in 0 ms after"
                + " failure: java.io.IOException: feed down #3"),
        logs.messages(),
        "each restart logged once, the escalation not at all");
    assertTrue(logs.records().stream().allMatch(r -> r.getLevel() == Level.WARNING));
  }

  @Test
  void shutdownStopsAServiceFromRestarting() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch firstRun = new CountDownLatch(1);
    CountDownLatch secondRun = new CountDownLatch(2);
    ServiceSpec ticking =
        ServiceSpec.of(
                "ticker",
                () -> {
                  runs.incrementAndGet();
                  firstRun.countDown();
                  secondRun.countDown();
                })
            .withRestart(ServiceSpec.Restart.PERMANENT)
            .withBackoff(Duration.ofSeconds(1), 1, Duration.ofSeconds(1))
            .withJitter(0)
            .withIntensity(1_000_000, Duration.ofHours(1));
    FakeTimer clock = new FakeTimer();
    ShutdownReport report =
        ThreadFrame.withTimer(
            clock,
            x ->
                Supervisor.run(
                    options("ticks"),
                    sup -> {
                      sup.startService(ticking);
                      firstRun.await();
                      awaitPending(clock); // its backoff
                      clock.advance(Duration.ofMillis(999));
                      assertEquals(1, runs.get(), "restarted before its backoff ended");
                      clock.advance(Duration.ofMillis(1));
                      secondRun.await();
                      awaitPending(clock); // waiting to restart again when the shutdown begins
                    }));
    assertEquals(1, report.cancelled(), report.toString());
    clock.advance(Duration.ofHours(1));
    assertEquals(2, runs.get(), "no restart after shutdown");
    assertEquals(
        List.of(
            "Service 'ticker' of supervisor 'ticks' restarting (attempt 1) in 1000 ms after it"
                + " returned",
            "Service 'ticker' of supervisor 'ticks' restarting (attempt 2) in 1000 ms after it"
                + " returned"),
        logs.messages());
  }

  @Test
  void joinedForkFailuresAreNotHeldUntilShutdown() throws Exception {
    Supervisor.run(
        options("joined"),
        sup -> {
          for (int i = 0; i < 1000; i++) {
            Task<String> t =
                sup.fork(
                    "f",
                    () -> {
                      throw new IOException("x");
                    });
            assertThrows(TaskFailedException.class, t::join);
          }
          // White-box: nothing is held for a joiner any more.
          var held = dev.lifespan.internal.SupervisorImpl.class.getDeclaredField("failedForks");
          held.setAccessible(true);
          assertEquals(0, ((java.util.Collection<?>) held.get(sup)).size());
        });
    assertEquals(List.of(), reported);
  }

  private static long usedHeapAfterGc() {
    Runtime runtime = Runtime.getRuntime();
    long previous = Long.MAX_VALUE;
    for (int i = 0; i < 10; i++) {
      System.gc();
      long used = runtime.totalMemory() - runtime.freeMemory();
      if (Math.abs(previous - used) < 64 * 1024) return used;
      previous = used;
    }
    return previous;
  }
}
