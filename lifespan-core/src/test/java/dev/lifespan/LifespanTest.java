package dev.lifespan;

import static dev.lifespan.AppFixtures.options;
import static dev.lifespan.AppFixtures.recording;
import static dev.lifespan.AppFixtures.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.AppFixtures.Progress;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The rules of {@link Lifespan}: order, startup and teardown failures, proceed, supervisors. */
class LifespanTest {
  private final List<String> log = new CopyOnWriteArrayList<>();
  private final Progress progress = new Progress();

  private App start(Lifespan lifespan, CheckedRunnable body) {
    return App.start(options("app", progress), lifespan, body);
  }

  @Test
  void startsInOrderAndTearsDownInReverse() throws Exception {
    App.Result r =
        result(
            start(
                Lifespan.of(recording("a", log), recording("b", log), recording("c", log)),
                () -> log.add("main")));
    assertEquals(
        List.of("start a", "start b", "start c", "main", "stop c", "stop b", "stop a"), log);
    assertEquals(App.Outcome.SUCCEEDED, r.outcome());
    assertEquals(0, r.exitCode());
    assertNull(r.failure());
  }

  @Test
  void nestedCompositesFlattenAndUnnamedLayersAreNamedByPosition() throws Exception {
    Lifespan unnamed =
        ctx -> {
          log.add(ctx.name());
          ctx.proceed();
        };
    result(start(Lifespan.of(Lifespan.of(unnamed, recording("b", log)), unnamed), () -> {}));
    assertEquals(List.of("layer-1", "start b", "layer-3", "stop b"), log);
    assertTrue(progress.any("starting layer 'layer-3'"), progress.toString());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2})
  void aStartupFailureNamesTheLayerAndTearsDownTheStartedOnesInReverse(int failing)
      throws Exception {
    List<Lifespan> layers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String name = "L" + i;
      layers.add(
          i == failing
              ? Lifespan.named(
                  name,
                  ctx -> {
                    log.add("fail " + name);
                    throw new IOException("cannot open " + name);
                  })
              : recording(name, log));
    }
    App.Result r =
        result(start(Lifespan.of(layers.toArray(Lifespan[]::new)), () -> log.add("main")));

    List<String> expected = new ArrayList<>();
    for (int i = 0; i < failing; i++) expected.add("start L" + i);
    expected.add("fail L" + failing);
    for (int i = failing - 1; i >= 0; i--) expected.add("stop L" + i);
    assertEquals(expected, log);
    assertEquals(App.Outcome.STARTUP_FAILED, r.outcome());
    assertEquals(3, r.exitCode());
    StartupFailedException e = assertInstanceOf(StartupFailedException.class, r.failure());
    assertEquals("L" + failing, e.layer());
    assertEquals("cannot open L" + failing, e.getCause().getMessage());
    assertTrue(e.getMessage().contains("layer 'L" + failing + "'"), e.getMessage());
    assertTrue(progress.any("startup failed in layer 'L" + failing + "'"), progress.toString());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2})
  void aTeardownFailureIsCollectedAndEveryOtherLayerStillTearsDown(int failing) throws Exception {
    List<Lifespan> layers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String name = "L" + i;
      layers.add(
          i == failing
              ? Lifespan.named(
                  name,
                  ctx -> {
                    log.add("start " + name);
                    ctx.proceed();
                    throw new IOException("cannot close " + name);
                  })
              : recording(name, log));
    }
    App.Result r =
        result(start(Lifespan.of(layers.toArray(Lifespan[]::new)), () -> log.add("main")));

    List<String> expected = new ArrayList<>(List.of("start L0", "start L1", "start L2", "main"));
    for (int i = 2; i >= 0; i--) {
      if (i != failing) expected.add("stop L" + i);
    }
    assertEquals(expected, log);
    assertEquals(App.Outcome.FAILED, r.outcome());
    assertEquals(1, r.exitCode());
    ShutdownFailedException e = assertInstanceOf(ShutdownFailedException.class, r.failure());
    assertEquals("layer 'L" + failing + "'", e.where());
    assertEquals("cannot close L" + failing, e.getCause().getMessage());
  }

  @Test
  void laterTeardownFailuresAreSuppressedAndNeverHideTheMainBodysFailure() throws Exception {
    Lifespan breaks =
        Lifespan.named(
            "x",
            ctx -> {
              ctx.proceed();
              throw new IOException("x broke");
            });
    Lifespan breaksToo =
        Lifespan.named(
            "y",
            ctx -> {
              ctx.proceed();
              throw new IOException("y broke");
            });
    App.Result both = result(start(Lifespan.of(breaks, breaksToo), () -> {}));
    ShutdownFailedException first = assertInstanceOf(ShutdownFailedException.class, both.failure());
    assertEquals("y broke", first.getCause().getMessage()); // y, inner, tears down first
    assertEquals(1, first.getSuppressed().length);
    assertEquals("x broke", first.getSuppressed()[0].getCause().getMessage());

    App.Result withMain =
        result(
            start(
                Lifespan.of(breaks),
                () -> {
                  throw new IllegalStateException("main broke");
                }));
    assertEquals(App.Outcome.FAILED, withMain.outcome());
    assertEquals("main broke", withMain.failure().getMessage());
    assertEquals(1, withMain.failure().getSuppressed().length);
    assertEquals("x broke", withMain.failure().getSuppressed()[0].getCause().getMessage());
  }

  @Test
  void aTeardownFailureIsSuppressedByTheStartupFailure() throws Exception {
    Lifespan outer =
        Lifespan.named(
            "outer",
            ctx -> {
              ctx.proceed();
              throw new IOException("outer broke");
            });
    Lifespan inner =
        Lifespan.named(
            "inner",
            ctx -> {
              throw new IOException("inner cannot start");
            });
    App.Result r = result(start(Lifespan.of(outer, inner), () -> {}));
    assertEquals(App.Outcome.STARTUP_FAILED, r.outcome());
    assertEquals("inner", ((StartupFailedException) r.failure()).layer());
    assertEquals(1, r.failure().getSuppressed().length);
    assertEquals("outer broke", r.failure().getSuppressed()[0].getCause().getMessage());
  }

  @Test
  void aLayerThatNeverCallsProceedFailsTheStartupSayingSo() throws Exception {
    App.Result r =
        result(
            start(
                Lifespan.of(recording("a", log), Lifespan.named("lazy", ctx -> log.add("lazy"))),
                () -> log.add("main")));
    assertEquals(List.of("start a", "lazy", "stop a"), log);
    assertEquals(App.Outcome.STARTUP_FAILED, r.outcome());
    assertEquals("lazy", ((StartupFailedException) r.failure()).layer());
    assertEquals(
        "Lifespan layer 'lazy' returned without calling proceed()",
        r.failure().getCause().getMessage());
  }

  @Test
  void callingProceedTwiceIsAnErrorThatSaysSoEvenIfTheLayerSwallowsIt() throws Exception {
    AtomicReference<Throwable> seen = new AtomicReference<>();
    Lifespan twice =
        Lifespan.named(
            "twice",
            ctx -> {
              ctx.proceed();
              try {
                ctx.proceed();
              } catch (IllegalStateException e) {
                seen.set(e); // swallowed: still reported
              }
            });
    App.Result r = result(start(twice, () -> log.add("main")));
    assertEquals(List.of("main"), log, "the application ran once");
    assertEquals("Lifespan layer 'twice' called proceed() twice", seen.get().getMessage());
    assertEquals(App.Outcome.FAILED, r.outcome());
    assertEquals(seen.get(), r.failure().getCause());
  }

  @Test
  void proceedFromAnotherThreadIsRefused() throws Exception {
    AtomicReference<Throwable> seen = new AtomicReference<>();
    Lifespan elsewhere =
        Lifespan.named(
            "elsewhere",
            ctx -> {
              Thread t =
                  Thread.ofPlatform()
                      .name("other")
                      .start(
                          () -> {
                            try {
                              ctx.proceed();
                            } catch (IllegalStateException e) {
                              seen.set(e);
                            }
                          });
              t.join();
              ctx.proceed();
            });
    App.Result r = result(start(elsewhere, () -> {}));
    assertEquals(App.Outcome.SUCCEEDED, r.outcome());
    assertTrue(seen.get().getMessage().contains("must call proceed() on the thread running it"));
    assertTrue(seen.get().getMessage().contains("'other'"), seen.get().getMessage());
  }

  @Test
  void proceedReturnsNormallyOnShutdownSoTeardownRunsWithoutAPendingInterrupt() throws Exception {
    AtomicBoolean interrupted = new AtomicBoolean(true);
    AtomicBoolean checkpointPassed = new AtomicBoolean();
    Lifespan layer =
        Lifespan.named(
            "clean",
            ctx -> {
              ctx.proceed();
              interrupted.set(Thread.currentThread().isInterrupted());
              CancelScope.checkpoint();
              CancelScope.sleep(Duration.ofMillis(1)); // blocking works in teardown
              checkpointPassed.set(true);
            });
    App app = start(layer, null); // serves until shutdown
    assertTrue(app.awaitReady());
    assertEquals(App.State.READY, app.state());
    app.signal(App.Signal.TERM);
    App.Result r = result(app);
    assertFalse(interrupted.get());
    assertTrue(checkpointPassed.get());
    assertEquals(App.Outcome.TERMINATED, r.outcome());
    assertEquals(143, r.exitCode());
    assertEquals(App.State.STOPPED, app.state());
  }

  @Test
  void aShutdownRequestDuringStartupCancelsTheStartingLayerOnly() throws Exception {
    CountDownLatch starting = new CountDownLatch(1);
    Lifespan slow =
        Lifespan.named(
            "slow",
            ctx -> {
              log.add("start slow");
              starting.countDown();
              try {
                CancelScope.sleep(Duration.ofDays(1));
              } catch (CancelledException e) {
                log.add("slow cancelled");
                throw e;
              }
              ctx.proceed();
            });
    App app =
        start(
            Lifespan.of(recording("a", log), slow, recording("never", log)), () -> log.add("main"));
    starting.await();
    assertEquals(App.State.STARTING, app.state());
    app.signal(App.Signal.TERM);
    App.Result r = result(app);
    assertEquals(List.of("start a", "start slow", "slow cancelled", "stop a"), log);
    assertEquals(App.Outcome.TERMINATED, r.outcome(), "a cancelled startup is not a failure");
    assertNull(r.failure());
    assertFalse(app.awaitReady());
    assertTrue(progress.any("startup of layer 'slow' cancelled"), progress.toString());
  }

  @Test
  void proceedIsACheckpointForALayerWhoseStartupWasCancelled() throws Exception {
    CountDownLatch starting = new CountDownLatch(1);
    AtomicReference<Throwable> fromProceed = new AtomicReference<>();
    Lifespan stubborn =
        Lifespan.named(
            "stubborn",
            ctx -> {
              starting.countDown();
              try {
                CancelScope.sleep(Duration.ofDays(1));
              } catch (CancelledException swallowed) {
                // carries on regardless
              }
              try {
                ctx.proceed();
              } catch (CancelledException e) {
                fromProceed.set(e);
                throw e;
              }
            });
    App app = start(Lifespan.of(recording("a", log), stubborn), () -> log.add("main"));
    starting.await();
    app.requestShutdown();
    App.Result r = result(app);
    assertInstanceOf(CancelledException.class, fromProceed.get());
    assertEquals(List.of("start a", "stop a"), log);
    assertEquals(App.Outcome.SUCCEEDED, r.outcome());
  }

  @Test
  void aHardDeadlineDuringTeardownPropagatesAfterEveryLayerHadItsChance() throws Exception {
    TestClock clock = new TestClock();
    CountDownLatch tearingDown = new CountDownLatch(1);
    Lifespan stuck =
        Lifespan.named(
            "stuck",
            ctx -> {
              ctx.proceed();
              tearingDown.countDown();
              try {
                CancelScope.sleep(Duration.ofDays(1)); // a teardown that would hang
              } catch (CancelledException e) {
                log.add("stuck teardown cancelled");
                throw e;
              }
            });
    App app =
        App.start(
            options("app", progress)
                .withClock(clock)
                .withGrace(Duration.ZERO)
                .withTeardownTimeout(Duration.ofSeconds(5)),
            Lifespan.of(recording("outer", log), stuck),
            () -> {}); // the body ends at once: the shutdown starts at 0 s
    tearingDown.await();
    clock.advance(Duration.ofMillis(4999));
    assertTrue(app.await(Duration.ZERO).isEmpty());
    assertEquals(List.of("start outer"), log, "cancelled before the hard deadline");
    clock.advance(Duration.ofMillis(1));
    App.Result r = result(app);
    assertEquals(List.of("start outer", "stuck teardown cancelled", "stop outer"), log);
    assertEquals(App.Outcome.FAILED, r.outcome());
    ShutdownFailedException e = assertInstanceOf(ShutdownFailedException.class, r.failure());
    assertEquals("layer 'stuck'", e.where());
    assertInstanceOf(CancelledException.class, e.getCause());
    assertFalse(r.gaveUp());
    assertTrue(progress.any("hard deadline reached"), progress.toString());
  }

  @Test
  void aLayersSupervisorStopsBeforeTheLayersResourcesClose() throws Exception {
    Lifespan layer =
        Lifespan.named(
            "consumers",
            ctx -> {
              CountDownLatch running = new CountDownLatch(1);
              ctx.supervisor()
                  .spawn(
                      "consume",
                      () -> {
                        running.countDown();
                        try {
                          CancelScope.sleep(Duration.ofDays(1));
                        } finally {
                          log.add("consumer stopped");
                        }
                      });
              running.await();
              ctx.proceed();
              log.add("connection closed");
              assertThrows(IllegalStateException.class, ctx::supervisor);
            });
    App.Result r = result(start(layer, () -> {}));
    assertEquals(List.of("consumer stopped", "connection closed"), log);
    assertEquals(2, r.reports().size());
    assertEquals("app/background", r.reports().get(0).supervisor());
    assertEquals("app/consumers", r.reports().get(1).supervisor());
    assertEquals(1, r.reports().get(1).cancelled());
  }

  @Test
  void innerLayersSupervisorsStopBeforeOuterOnes() throws Exception {
    Lifespan.Context[] held = new Lifespan.Context[1];
    Lifespan outer =
        Lifespan.named(
            "outer",
            ctx -> {
              ctx.supervisor().spawn("outer-task", () -> CancelScope.sleep(Duration.ofDays(1)));
              ctx.proceed();
            });
    Lifespan inner =
        Lifespan.named(
            "inner",
            ctx -> {
              held[0] = ctx;
              ctx.supervisor().spawn("inner-task", () -> CancelScope.sleep(Duration.ofDays(1)));
              ctx.proceed();
            });
    App.Result r = result(start(Lifespan.of(outer, inner), () -> {}));
    assertEquals(
        List.of("app/background", "app/inner", "app/outer"),
        r.reports().stream().map(ShutdownReport::supervisor).toList());
    assertEquals("inner", held[0].name());
    assertEquals("app", held[0].applicationName());
  }

  /** A client whose connection is made in the background, and may not exist at shutdown. */
  private Lifespan backgroundConnection(
      CountDownLatch connecting, CountDownLatch connect, CountDownLatch connected) {
    return Lifespan.named(
        "client",
        ctx -> {
          AtomicReference<String> connection = new AtomicReference<>();
          ctx.supervisor()
              .spawn(
                  "connect",
                  () -> {
                    connecting.countDown();
                    try {
                      connect.await(); // a slow handshake
                      connection.set("connection");
                      log.add("connected");
                      connected.countDown();
                    } catch (InterruptedException e) {
                      log.add("connect cancelled");
                      throw e;
                    }
                  });
          ctx.proceed();
          if (connection.get() != null) log.add("disconnected");
        });
  }

  @Test
  void aBackgroundConnectStillRunningAtShutdownIsCancelledAndNothingIsDisconnected()
      throws Exception {
    CountDownLatch connecting = new CountDownLatch(1);
    App app =
        start(backgroundConnection(connecting, new CountDownLatch(1), new CountDownLatch(1)), null);
    connecting.await();
    assertTrue(app.awaitReady());
    app.requestShutdown();
    App.Result r = result(app);
    assertEquals(List.of("connect cancelled"), log);
    assertEquals(1, r.reports().get(1).cancelled(), r.reports().toString());
  }

  @Test
  void aCompletedBackgroundConnectionIsDisconnectedAtShutdown() throws Exception {
    CountDownLatch connect = new CountDownLatch(1);
    connect.countDown();
    CountDownLatch connected = new CountDownLatch(1);
    App app = start(backgroundConnection(new CountDownLatch(1), connect, connected), null);
    connected.await();
    // a shutdown requested before the layer's proceed() would cancel its startup instead
    assertTrue(app.awaitReady());
    app.requestShutdown();
    result(app);
    assertEquals(List.of("connected", "disconnected"), log);
  }

  @Test
  void aFailingStartupShutsTheLayersSupervisorDownWithoutGrace() throws Exception {
    Lifespan failing =
        Lifespan.named(
            "failing",
            ctx -> {
              ctx.supervisor()
                  .spawnMustFinish("flush", () -> CancelScope.sleep(Duration.ofDays(1)));
              throw new IOException("no config");
            });
    App.Result r = result(start(failing, () -> {}));
    assertEquals(App.Outcome.STARTUP_FAILED, r.outcome());
    ShutdownReport report =
        r.reports().stream()
            .filter(x -> x.supervisor().equals("app/failing"))
            .findFirst()
            .orElseThrow();
    assertEquals(1, report.cancelled());
    assertTrue(report.stragglers().isEmpty());
    assertEquals(List.of("flush"), report.abandoned(), "cancelled without grace: abandoned");
  }

  @Test
  void aCompositeIsRunByTheAppNotDirectlyAndCannotBeNamed() {
    Lifespan composite = Lifespan.of(recording("a", log));
    assertThrows(UnsupportedOperationException.class, () -> composite.run(null));
    var e = assertThrows(IllegalArgumentException.class, () -> Lifespan.named("both", composite));
    assertTrue(e.getMessage().contains("'both'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Lifespan.named(" ", ctx -> {}));
    var npe = assertThrows(NullPointerException.class, () -> Lifespan.of(composite, null));
    assertEquals("Lifespan.of: layer 1 is null", npe.getMessage());
  }
}
