package dev.lifespan;

import static dev.lifespan.AppFixtures.options;
import static dev.lifespan.AppFixtures.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.AppFixtures.Progress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The application runner: shutdown phases, signals, progress, outcomes. Tests of what happens when
 * time passes run the application on {@link #clock} and read as timelines.
 */
class AppTest {
  private final List<String> log = new CopyOnWriteArrayList<>();
  private final Progress progress = new Progress();
  private final TestClock clock = new TestClock();
  @RegisterExtension final LogCapture logs = new LogCapture();

  @Test
  void mustFinishWorkFinishesWhileOrdinaryWorkIsCancelledAtOnce() throws Exception {
    CountDownLatch bothRunning = new CountDownLatch(2);
    CountDownLatch ordinaryCancelled = new CountDownLatch(1);
    App app =
        App.start(
            options("worker", progress),
            Lifespan.of(),
            () -> {
              Supervisor.background()
                  .spawnMustFinish(
                      "confirm order 7",
                      () -> {
                        bothRunning.countDown();
                        ordinaryCancelled.await(); // still running after the ordinary one ended
                        log.add("order 7 confirmed");
                      });
              Supervisor.fireAndForget(
                  "refresh cache",
                  () -> {
                    bothRunning.countDown();
                    try {
                      CancelScope.sleep(Duration.ofDays(1));
                    } finally {
                      log.add("refresh cancelled");
                      ordinaryCancelled.countDown();
                    }
                  });
              bothRunning.await();
              CancelScope.sleep(Duration.ofDays(1)); // serves until the signal
            });
    assertTrue(app.awaitReady());
    bothRunning.await();
    app.signal(App.Signal.TERM);
    App.Result r = result(app);
    assertEquals(List.of("refresh cancelled", "order 7 confirmed"), log);
    assertEquals(App.Outcome.TERMINATED, r.outcome());
    ShutdownReport background = r.reports().getFirst();
    assertEquals("worker/background", background.supervisor());
    assertEquals(1, background.completed());
    assertEquals(1, background.cancelled());
    assertTrue(r.stragglers().isEmpty());
  }

  @Test
  void progressSaysWhatTheShutdownWaitsForAndHowLongIsLeft() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch running = new CountDownLatch(1);
    App app =
        App.start(
            options("worker", progress)
                .withClock(clock)
                .withProgressInterval(Duration.ofSeconds(5)),
            Lifespan.named(
                "jobs",
                ctx -> {
                  ctx.supervisor()
                      .spawnMustFinish(
                          "confirm order 7",
                          () -> {
                            running.countDown();
                            release.await();
                          });
                  ctx.proceed();
                }),
            null);
    running.await();
    assertTrue(app.awaitReady());
    app.signal(App.Signal.TERM);
    String signalled = progress.awaitLine("SIGTERM received: shutting down");
    assertTrue(
        signalled.endsWith("grace 30.0 s, hard deadline in 35.0 s, exit in at most 37.0 s"),
        signalled);
    progress.awaitLine(
        "stopping supervisor 'worker/jobs': waiting for 1 must-finish: 'confirm order 7';"
            + " 30.0 s of grace left");

    String waiting = "stopping supervisor 'worker/jobs': waiting for 1 task (1 must-finish)";
    clock.advance(Duration.ofMillis(4999));
    assertFalse(progress.any(waiting), "repeated before the interval: " + progress);
    clock.advance(Duration.ofMillis(1));
    assertEquals(
        "[  5.00 s] worker: " + waiting + ": 'confirm order 7'; 25.0 s of grace left",
        progress.awaitLine(waiting));
    clock.advance(Duration.ofSeconds(5)); // repeated while it waits
    progress.awaitLines(waiting, 2);
    assertTrue(
        progress.lines.contains(
            "[ 10.00 s] worker: " + waiting + ": 'confirm order 7'; 20.0 s of grace left"),
        progress.toString());

    release.countDown();
    App.Result r = result(app);
    assertEquals(App.Outcome.TERMINATED, r.outcome());
    assertTrue(progress.any("tearing down layer 'jobs'"), progress.toString());
    assertEquals(
        "[ 10.00 s] worker: stopped 10000 ms after the shutdown request: TERMINATED,"
            + " exit code 143",
        progress.lines.getLast());
  }

  @Test
  void aSecondSigintForcesMustFinishWorkToBeCancelled() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    App app =
        App.start(
            options("worker", progress).withClock(clock), // no time passes: the signal forces
            Lifespan.named(
                "jobs",
                ctx -> {
                  ctx.supervisor()
                      .spawnMustFinish(
                          "long report",
                          () -> {
                            running.countDown();
                            try {
                              CancelScope.run(
                                  CancelScope.Options.named("inner shield").shielded(),
                                  s -> CancelScope.sleep(Duration.ofDays(1)));
                            } finally {
                              log.add("report cancelled");
                            }
                          });
                  ctx.proceed();
                }),
            null);
    running.await();
    assertTrue(app.awaitReady());
    app.signal(App.Signal.INT);
    progress.awaitLine(
        "stopping supervisor 'worker/jobs': waiting for 1 must-finish: 'long report'");
    assertEquals(App.State.DRAINING, app.state());
    assertTrue(log.isEmpty(), "the first SIGINT does not cancel must-finish work");
    app.signal(App.Signal.INT);
    App.Result r = result(app);
    assertEquals(List.of("report cancelled"), log);
    assertEquals(App.Outcome.INTERRUPTED, r.outcome());
    assertEquals(130, r.exitCode());
    assertTrue(progress.any("SIGINT received again: forcing"), progress.toString());
    assertTrue(r.stragglers().isEmpty());
  }

  @Test
  void aTaskIgnoringCancellationPastTheGracePeriodIsReportedAsAStragglerAndTheAppEndsAnyway()
      throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch cancelled = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<Task<Void>> task = new AtomicReference<>();
    App app =
        App.start(
            options("worker", progress)
                .withClock(clock)
                .withGrace(Duration.ofSeconds(10))
                .withKillTimeout(Duration.ofSeconds(2)),
            Lifespan.named(
                "jobs",
                ctx -> {
                  task.set(
                      ctx.supervisor()
                          .spawnMustFinish(
                              "stubborn",
                              Fixtures.ignoresCancellation(started, release, cancelled)));
                  ctx.proceed();
                }),
            null);
    started.await();
    assertTrue(app.awaitReady());
    app.signal(App.Signal.TERM);
    try {
      progress.awaitLine("stopping supervisor 'worker/jobs': waiting for 1 must-finish");
      clock.advance(Duration.ofMillis(9999));
      assertEquals(1, cancelled.getCount(), "must-finish work is not cancelled in the grace");
      assertTrue(app.await(Duration.ZERO).isEmpty());
      clock.advance(Duration.ofMillis(1)); // the grace ends: cancelled, and ignores it
      cancelled.await();
      AppFixtures.awaitPending(clock, 2); // the runner's kill timeout and the monitor's wait
      clock.advance(Duration.ofMillis(1999));
      assertTrue(app.await(Duration.ZERO).isEmpty(), "ended before the kill timeout");
      assertFalse(progress.any("straggler"), progress.toString());
      clock.advance(Duration.ofMillis(1));
      App.Result r = result(app);
      assertEquals(App.Outcome.WORK_ABANDONED, r.outcome(), "stragglers: the promise was not kept");
      assertEquals(4, r.exitCode());
      assertFalse(r.gaveUp());
      assertEquals(1, r.stragglers().size());
      ShutdownReport.Straggler s = r.stragglers().getFirst();
      assertEquals("stubborn", s.name());
      assertTrue(s.mustFinish());
      assertFalse(s.stackTrace().isEmpty());
      assertTrue(progress.any("straggler 'stubborn' (must-finish)"), progress.toString());
      assertTrue(progress.any("at java.base/"), "the straggler's stack is printed");
      assertEquals(Duration.ofSeconds(12), r.shutdownTime(), "grace + kill timeout");
    } finally {
      release.countDown();
      task.get().join();
    }
  }

  @Test
  void theRunnerGivesUpOnATeardownThatIgnoresTheHardDeadline() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch cancelled = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    App app =
        App.start(
            options("hung", progress)
                .withClock(clock)
                .withGrace(Duration.ZERO)
                .withTeardownTimeout(Duration.ofSeconds(5))
                .withKillTimeout(Duration.ofSeconds(2)),
            Lifespan.named(
                "sticky",
                ctx -> {
                  ctx.proceed();
                  Fixtures.ignoresCancellation(started, release, cancelled).run();
                }),
            () -> {}); // the body ends at once: the shutdown starts at 0 s
    try {
      started.await();
      clock.advance(Duration.ofMillis(4999)); // just before the hard deadline (grace + teardown)
      assertTrue(app.await(Duration.ZERO).isEmpty());
      assertFalse(progress.any("hard deadline reached"), progress.toString());
      clock.advance(Duration.ofMillis(1));
      progress.awaitLine("hard deadline reached: cancelling everything still running");
      cancelled.await(); // the teardown is cancelled, and ignores it
      clock.advance(Duration.ofMillis(1999)); // the kill timeout, but for one millisecond
      assertTrue(app.await(Duration.ZERO).isEmpty());
      assertFalse(progress.any("giving up"), progress.toString());
      clock.advance(Duration.ofMillis(1));
      App.Result r = result(app);
      assertTrue(r.gaveUp());
      assertEquals(Duration.ofSeconds(7), r.shutdownTime(), "teardown + kill timeout");
      assertEquals(App.Outcome.WORK_ABANDONED, r.outcome());
      assertTrue(progress.any("giving up: the application has not ended"), progress.toString());
      assertTrue(progress.any("runner thread 'app 'hung''"), progress.toString());
      assertTrue(progress.any("(gave up waiting)"), progress.toString());
    } finally {
      release.countDown();
      AppFixtures.joinRunner("hung");
    }
  }

  @Test
  void aThirdSigintGivesUpAtOnce() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    App app =
        App.start(
            options("impatient", progress).withClock(clock), // no time passes: it gives up
            Lifespan.named(
                "sticky",
                ctx -> {
                  ctx.proceed();
                  Fixtures.ignoresCancellation(started, release, null).run();
                }),
            () -> {});
    try {
      started.await();
      app.signal(App.Signal.INT); // after the body ended: the shutdown already runs; this forces
      app.signal(App.Signal.INT);
      App.Result r = result(app);
      assertTrue(r.gaveUp());
      assertTrue(progress.any("a third time: giving up"), progress.toString());
    } finally {
      release.countDown();
      AppFixtures.joinRunner("impatient");
    }
  }

  @Test
  void theDrainDelayKeepsTheBodyRunningWhileDraining() throws Exception {
    CountDownLatch serving = new CountDownLatch(1);
    CountDownLatch cancelled = new CountDownLatch(1);
    App app =
        App.start(
            options("drain", progress).withClock(clock).withDrainDelay(Duration.ofSeconds(4)),
            Lifespan.of(),
            () -> {
              serving.countDown();
              try {
                CancelScope.sleep(Duration.ofDays(1));
              } finally {
                cancelled.countDown();
              }
            });
    serving.await();
    app.signal(App.Signal.TERM);
    assertEquals(App.State.DRAINING, app.state(), "readiness drops at once");
    progress.awaitLine("draining for 4.0 s before stopping the main body");
    clock.advance(Duration.ofMillis(3999));
    assertEquals(1, cancelled.getCount(), "the body was cancelled before the drain delay ended");
    assertFalse(
        progress.lines.stream().anyMatch(l -> l.endsWith(": stopping the main body")),
        progress.toString());
    clock.advance(Duration.ofMillis(1));
    cancelled.await();
    App.Result r = result(app);
    assertEquals(App.Outcome.TERMINATED, r.outcome());
    assertEquals(Duration.ofSeconds(4), r.shutdownTime());
  }

  @Test
  void aSecondSigtermOnlySaysHowLongTheShutdownMayTake() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    App app =
        App.start(
            options("worker", progress).withClock(clock),
            Lifespan.named(
                "jobs",
                ctx -> {
                  ctx.supervisor()
                      .spawnMustFinish(
                          "job",
                          () -> {
                            running.countDown();
                            release.await();
                            log.add("job done");
                          });
                  ctx.proceed();
                }),
            null);
    running.await();
    assertTrue(app.awaitReady());
    app.signal(App.Signal.TERM);
    clock.advance(Duration.ofSeconds(3));
    app.signal(App.Signal.TERM);
    String again = progress.awaitLine("SIGTERM received again");
    assertTrue(
        again.endsWith(
            "already shutting down, 27.0 s of grace left, exit in at most 34.0 s;"
                + " a second SIGINT forces"),
        again);
    release.countDown();
    assertEquals(App.Outcome.TERMINATED, result(app).outcome());
    assertEquals(List.of("job done"), log, "the second SIGTERM did not force");
  }

  @Test
  void aSupervisorEscalationStopsTheApplicationWithAFailure() throws Exception {
    App app =
        App.start(
            options("escalates", progress),
            Lifespan.named(
                "feeds",
                ctx -> {
                  ctx.supervisor()
                      .startService(
                          ServiceSpec.of(
                                  "feed",
                                  () -> {
                                    throw new IllegalStateException("feed down");
                                  })
                              .withBackoff(Duration.ZERO, 1.0, Duration.ZERO)
                              .withIntensity(1, Duration.ofMinutes(1)));
                  ctx.proceed();
                }),
            null); // would serve forever
    App.Result r = result(app);
    assertEquals(App.Outcome.FAILED, r.outcome());
    ShutdownFailedException e = assertInstanceOf(ShutdownFailedException.class, r.failure());
    assertEquals("supervisor 'escalates/feeds'", e.where());
    assertInstanceOf(SupervisorFailedException.class, e.getCause());
    assertTrue(progress.any("supervisor 'escalates/feeds' failed; stopping the application"));
    LogRecord restart = logs.single(Level.WARNING);
    assertEquals(
        "Service 'feed' of supervisor 'escalates/feeds' restarting (attempt 1) in 0 ms after"
            + " failure: java.lang.IllegalStateException: feed down",
        restart.getMessage());
  }

  @Test
  void fireAndForgetFromAnyTaskOfTheAppLandsInItsBackgroundSupervisor() throws Exception {
    AtomicReference<Task<Void>> fired = new AtomicReference<>();
    CountDownLatch firing = new CountDownLatch(1);
    App app =
        App.start(
            options("shop", progress),
            Lifespan.of(),
            () ->
                TaskGroup.run(
                    "request",
                    g ->
                        g.spawn(
                            () -> {
                              fired.set(
                                  Supervisor.fireAndForget(
                                      "send mail", () -> CancelScope.sleep(Duration.ofDays(1))));
                              firing.countDown();
                            })));
    firing.await();
    App.Result r = result(app); // the body returned; the mail task outlived the request
    assertEquals(Future.State.CANCELLED, fired.get().state());
    assertEquals("shop/background", r.reports().getFirst().supervisor());
    assertEquals(1, r.reports().getFirst().cancelled());
  }

  @Test
  void backgroundIsTheApplicationsInsideAndTheProcessWideOneOutside() throws Exception {
    AtomicReference<Supervisor> inside = new AtomicReference<>();
    result(
        App.start(
            options("a", progress), Lifespan.of(), () -> inside.set(Supervisor.background())));
    assertEquals("a/background", inside.get().name());
    assertEquals(Supervisor.State.TERMINATED, inside.get().state());
    assertEquals("lifespan-background", Supervisor.background().name());
    var e = assertThrows(IllegalStateException.class, () -> inside.get().spawn("late", () -> {}));
    assertTrue(e.getMessage().contains("'late'"), e.getMessage());
  }

  @Test
  void statesFollowStartupServingAndShutdown() throws Exception {
    CountDownLatch starting = new CountDownLatch(1);
    CountDownLatch proceed = new CountDownLatch(1);
    App app =
        App.start(
            options("states", progress),
            Lifespan.named(
                "gate",
                ctx -> {
                  starting.countDown();
                  proceed.await();
                  ctx.proceed();
                }),
            null);
    starting.await();
    assertEquals(App.State.STARTING, app.state());
    proceed.countDown();
    assertTrue(app.awaitReady());
    assertEquals(App.State.READY, app.state());
    app.requestShutdown();
    App.Result r = result(app);
    assertEquals(App.State.STOPPED, app.state());
    assertEquals(App.Outcome.SUCCEEDED, r.outcome());
    assertSame(r, app.await());
    app.requestShutdown(); // idempotent after the end
    app.signal(App.Signal.INT);
    assertEquals("App[states, STOPPED]", app.toString());
  }

  @Test
  void theMainBodysFailureIsTheOutcomeAndExitCodesAreConfigurable() throws Exception {
    App.Result r =
        result(
            App.start(
                options("fails", progress).withExitCode(App.Outcome.FAILED, 70),
                Lifespan.of(),
                () -> {
                  throw new java.io.IOException("disk full");
                }));
    assertEquals(App.Outcome.FAILED, r.outcome());
    assertEquals(70, r.exitCode());
    assertEquals("disk full", r.failure().getMessage());
    assertTrue(progress.any("main body failed: java.io.IOException: disk full"));
  }

  @Test
  void badOptionsAreRefusedNamingTheValue() {
    var o = App.Options.named("x");
    var e = assertThrows(IllegalArgumentException.class, () -> o.withGrace(Duration.ofSeconds(-1)));
    assertEquals("grace < 0: PT-1S (app 'x')", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> o.withExitCode(App.Outcome.FAILED, 256));
    assertEquals("exit code for FAILED must be 0..255: 256 (app 'x')", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> o.withProgressInterval(Duration.ZERO));
    assertTrue(e.getMessage().contains("PT0S"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> App.Options.named(""));
  }

  @Test
  void theDumpShowsTheApplicationsSupervisorsAndTasks() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    App app =
        App.start(
            options("dumped", progress),
            Lifespan.named(
                "jobs",
                ctx -> {
                  ctx.supervisor()
                      .spawn(
                          "poller",
                          () -> {
                            running.countDown();
                            CancelScope.sleep(Duration.ofDays(1));
                          });
                  ctx.proceed();
                }),
            null);
    running.await();
    assertTrue(app.awaitReady());
    TaskDump dump = app.dump(false);
    TaskDump.Node root = dump.roots().getFirst();
    assertEquals(TaskDump.Kind.APP, root.kind());
    assertEquals("READY", root.state());
    assertEquals(
        List.of("supervisor dumped/background", "layer jobs"),
        root.children().stream().map(n -> n.kind().label() + " " + n.name()).toList());
    TaskDump.Node jobs = root.children().get(1).children().getFirst();
    assertEquals("dumped/jobs", jobs.name());
    assertEquals("poller", jobs.children().getFirst().name());
    String text = dump.toText();
    assertTrue(text.contains("\n    supervisor 'dumped/jobs' RUNNING"), text);
    assertTrue(text.contains("\n      task 'poller' RUNNING"), text);
    String global = TaskDump.capture(false).toText();
    assertTrue(global.contains("app 'dumped' READY"), global);
    assertEquals(1, global.split("supervisor 'dumped/jobs'", -1).length - 1, global);
    app.requestShutdown();
    result(app);
  }

  @Test
  void codeInsideTheApplicationFindsItsAppAndTheGraceDeadline() throws Exception {
    AtomicReference<App> found = new AtomicReference<>();
    AtomicReference<java.util.Optional<java.time.Instant>> before = new AtomicReference<>();
    AtomicReference<java.util.Optional<java.time.Instant>> after = new AtomicReference<>();
    CountDownLatch serving = new CountDownLatch(1);
    App app =
        App.start(
            options("finder", progress).withClock(clock).withGrace(Duration.ofSeconds(30)),
            Lifespan.of(),
            () -> {
              App me =
                  TaskGroup.call("lookup", g -> g.fork(() -> App.current().orElseThrow()).join());
              found.set(me);
              before.set(me.graceDeadline());
              serving.countDown();
              try {
                CancelScope.sleep(Duration.ofDays(1));
              } finally {
                after.set(me.graceDeadline());
              }
            });
    serving.await();
    clock.advance(Duration.ofSeconds(7));
    java.time.Instant signalled = clock.instant();
    app.requestShutdown();
    result(app);
    assertSame(app, found.get());
    assertTrue(before.get().isEmpty());
    assertEquals(signalled.plusSeconds(30), after.get().orElseThrow());
    assertTrue(App.current().isEmpty());
  }
}
