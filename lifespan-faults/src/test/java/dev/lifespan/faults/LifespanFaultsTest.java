package dev.lifespan.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.CheckedRunnable;
import dev.lifespan.Lifespan;
import dev.lifespan.ShutdownFailedException;
import dev.lifespan.StartupFailedException;
import dev.lifespan.Supervisor;
import dev.lifespan.Task;
import dev.lifespan.TaskGroup;
import dev.lifespan.test.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Faults injected into an application run in-process on the fake clock: a stack of five layers
 * {@code L1} (outermost) to {@code L5}, each recording its startup and teardown, and one fault at a
 * time in a layer, the main body, a must-finish task, a task, or a failure handler. Each test
 * checks the outcome and exit code, the failure and the reports, the teardown order, and (every
 * test of this module runs under the leak check) that no thread is left.
 *
 * <p>Budget: grace 3 s, teardown timeout 2 s, kill timeout 1 s: the hard deadline is 5 s after the
 * shutdown request, and the runner gives up 1 s later.
 */
class LifespanFaultsTest {
  private static final Duration FOREVER = Duration.ofDays(1);
  private final FakeClock clock = new FakeClock();
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final List<String> events = new CopyOnWriteArrayList<>();

  private App.Options options() {
    return App.Options.named("faults")
        .withClock(clock)
        .withGrace(Duration.ofSeconds(3))
        .withTeardownTimeout(Duration.ofSeconds(2))
        .withKillTimeout(Duration.ofSeconds(1))
        .withProgressInterval(Duration.ofHours(1))
        .withProgress(lines::add);
  }

  /** What a layer does around its {@code proceed()}. */
  private interface Fault {
    void beforeProceed(Lifespan.Context ctx) throws Exception;

    default void afterProceed(Lifespan.Context ctx) throws Exception {}
  }

  private static final Fault NONE = ctx -> {};

  /** Five layers; {@code faultAt} (1 to 5, or 0 for none) runs {@code fault}. */
  private Lifespan stack(int faultAt, Fault fault) {
    List<Lifespan> layers = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      String name = "L" + i;
      Fault f = i == faultAt ? fault : NONE;
      layers.add(
          Lifespan.named(
              name,
              ctx -> {
                events.add("start " + name);
                f.beforeProceed(ctx);
                ctx.proceed();
                events.add("stop " + name);
                f.afterProceed(ctx);
              }));
    }
    return Lifespan.of(layers.toArray(Lifespan[]::new));
  }

  private static List<String> startedThenStopped(int upTo) {
    List<String> out = new ArrayList<>();
    for (int i = 1; i <= upTo; i++) out.add("start L" + i);
    for (int i = upTo; i >= 1; i--) out.add("stop L" + i);
    return out;
  }

  /**
   * Waits in real time, at most 30 s, until a progress line containing {@code text} has been
   * printed: the application has reached that point of its shutdown.
   */
  private void awaitLine(String text) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (lines.stream().noneMatch(l -> l.contains(text))) {
      if (System.nanoTime() - end >= 0) {
        throw new AssertionError("no line with \"" + text + "\" in " + lines);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(200_000);
    }
  }

  // ---- startup

  @ParameterizedTest(name = "layer L{0} of five fails at startup")
  @ValueSource(ints = {1, 2, 3, 4, 5})
  void aLayerFailingAtStartupTearsDownTheStartedOnesInReverse(int position) throws Exception {
    IllegalStateException boom = new IllegalStateException("cannot open L" + position);
    App app =
        App.start(
            options(),
            stack(
                position,
                ctx -> {
                  throw boom;
                }),
            () -> events.add("main"));
    App.Result r = app.await();
    assertEquals(App.Outcome.STARTUP_FAILED, r.outcome());
    assertEquals(3, r.exitCode());
    StartupFailedException e = assertInstanceOf(StartupFailedException.class, r.failure());
    assertSame(boom, e.getCause());
    assertTrue(e.getMessage().contains("L" + position), e.getMessage());
    List<String> expected = new ArrayList<>(startedThenStopped(position));
    expected.remove("stop L" + position); // it threw before proceed(): nothing to tear down
    assertEquals(expected, events);
    assertTrue(lines.stream().anyMatch(l -> l.contains("startup failed in layer 'L" + position)));
  }

  // ---- teardown

  @ParameterizedTest(name = "layer L{0} of five throws at teardown")
  @ValueSource(ints = {1, 3, 5})
  void aTeardownThatThrowsFailsTheShutdownAndTheOthersStillTearDown(int position) throws Exception {
    IllegalStateException boom = new IllegalStateException("cannot close L" + position);
    App app =
        App.start(
            options(),
            stack(
                position,
                new Fault() {
                  public void beforeProceed(Lifespan.Context ctx) {}

                  public void afterProceed(Lifespan.Context ctx) {
                    throw boom;
                  }
                }),
            () -> events.add("main"));
    App.Result r = app.await();
    assertEquals(App.Outcome.FAILED, r.outcome());
    assertEquals(1, r.exitCode());
    ShutdownFailedException e = assertInstanceOf(ShutdownFailedException.class, r.failure());
    assertSame(boom, e.getCause());
    List<String> expected = startedThenStopped(5);
    expected.add(5, "main");
    assertEquals(expected, events);
  }

  @Test
  void aTeardownThatHangsIsCancelledAtTheHardDeadlineAndReportedNotSwallowed() throws Exception {
    CountDownLatch hanging = new CountDownLatch(1);
    App app =
        App.start(
            options(),
            stack(
                3,
                new Fault() {
                  public void beforeProceed(Lifespan.Context ctx) {}

                  public void afterProceed(Lifespan.Context ctx) throws Exception {
                    hanging.countDown();
                    Thread.sleep(FOREVER);
                  }
                }),
            null);
    assertTrue(app.awaitReady());
    app.requestShutdown();
    hanging.await();
    clock.advance(Duration.ofMillis(4999)); // hard deadline: 5 s after the request
    assertTrue(app.await(Duration.ZERO).isEmpty(), lines::toString);
    clock.advance(Duration.ofMillis(1));
    // Real time from here: the clock stays short of the moment the runner would give up, so the
    // teardown's cancellation alone must end the application, however late its thread runs.
    App.Result r = app.await();
    assertEquals(App.Outcome.FAILED, r.outcome(), lines::toString);
    assertEquals(1, r.exitCode());
    assertFalse(r.gaveUp());
    ShutdownFailedException e = assertInstanceOf(ShutdownFailedException.class, r.failure());
    assertTrue(isCancellation(e.getCause()), "the cause: " + e.getCause());
    assertEquals(startedThenStopped(5), events, "L2 and L1 still tore down");
  }

  @Test
  void aTeardownThatSwallowsOneInterruptStillSeesTheCancellation() throws Exception {
    CountDownLatch hanging = new CountDownLatch(1);
    AtomicInteger checkpointThrew = new AtomicInteger();
    App app =
        App.start(
            options(),
            stack(
                2,
                new Fault() {
                  public void beforeProceed(Lifespan.Context ctx) {}

                  public void afterProceed(Lifespan.Context ctx) {
                    hanging.countDown();
                    try {
                      Thread.sleep(FOREVER);
                    } catch (InterruptedException swallowed) {
                      // careless teardown code
                    }
                    try {
                      CancelScope.checkpoint();
                    } catch (CancelledException e) {
                      checkpointThrew.incrementAndGet();
                      throw e;
                    }
                  }
                }),
            null);
    assertTrue(app.awaitReady());
    app.requestShutdown();
    hanging.await();
    clock.advance(Duration.ofSeconds(5)); // the hard deadline, 1 s before the runner would give up
    App.Result r = app.await();
    assertEquals(1, checkpointThrew.get(), "the cancellation is level-triggered");
    assertEquals(App.Outcome.FAILED, r.outcome(), lines::toString);
    assertInstanceOf(ShutdownFailedException.class, r.failure());
    assertEquals(startedThenStopped(5), events);
  }

  // ---- the main body

  @Test
  void aFailingMainBodyFailsTheAppAndEveryLayerTearsDown() throws Exception {
    IllegalStateException boom = new IllegalStateException("main failed");
    App app =
        App.start(
            options(),
            stack(0, NONE),
            () -> {
              throw boom;
            });
    App.Result r = app.await();
    assertEquals(App.Outcome.FAILED, r.outcome());
    assertEquals(1, r.exitCode());
    assertSame(boom, r.failure());
    assertEquals(startedThenStopped(5), events);
  }

  @Test
  void aMainBodyThatReturnsEarlySucceedsAndEveryLayerTearsDown() throws Exception {
    App app = App.start(options(), stack(0, NONE), () -> events.add("main"));
    App.Result r = app.await();
    assertEquals(App.Outcome.SUCCEEDED, r.outcome());
    assertEquals(0, r.exitCode());
    assertNull(r.failure());
    List<String> expected = startedThenStopped(5);
    expected.add(5, "main");
    assertEquals(expected, events);
  }

  @Test
  void aMainBodyThatIgnoresCancellationIsGivenUpOnAndTheOutcomeSaysSo() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1); // ends the stuck body after the test
    App app =
        App.start(
            options(),
            stack(0, NONE),
            () -> {
              running.countDown();
              while (release.getCount() > 0) {
                try {
                  release.await();
                } catch (InterruptedException ignored) {
                  // a body that swallows every cancellation
                }
              }
            });
    try {
      running.await();
      app.signal(App.Signal.TERM);
      clock.advance(Duration.ofMillis(4999));
      assertTrue(app.await(Duration.ZERO).isEmpty());
      clock.advance(Duration.ofMillis(1)); // the hard deadline; the runner gives up 1 s later
      clock.advance(Duration.ofSeconds(1));
      // Real time from here, the clock held at the moment of giving up (stepping it on while the
      // runner waited for a processor once made the shutdown look 7.5 s long).
      App.Result r = app.await();
      assertTrue(r.gaveUp(), lines::toString);
      assertEquals(App.Outcome.WORK_ABANDONED, r.outcome());
      assertEquals(4, r.exitCode());
      assertEquals(Duration.ofSeconds(6), r.shutdownTime(), "one kill timeout after the hard one");
    } finally {
      release.countDown();
    }
  }

  // ---- tasks

  @Test
  void aMustFinishTaskThatIgnoresCancellationPastTheKillTimeoutIsAStraggler() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CheckedRunnable stubborn =
        () -> {
          running.countDown();
          while (release.getCount() > 0) {
            try {
              release.await();
            } catch (InterruptedException ignored) {
              // ignores cancellation
            }
          }
        };
    App app =
        App.start(
            options(),
            stack(
                4,
                ctx -> {
                  ctx.supervisor().spawnMustFinish("stubborn", stubborn);
                }),
            null);
    try {
      running.await();
      assertTrue(app.awaitReady()); // a signal during L4's startup would cancel that startup
      app.signal(App.Signal.TERM);
      awaitLine("waiting for 1 must-finish: 'stubborn'");
      clock.advance(Duration.ofSeconds(3)); // the grace ends: 'stubborn' is cancelled
      clock.awaitDeadlineWithin(Duration.ofSeconds(1), Duration.ofSeconds(30));
      clock.advance(Duration.ofSeconds(1)); // the kill timeout: 'stubborn' is abandoned
      App.Result r = app.await(Duration.ofSeconds(30)).orElseThrow(() -> new AssertionError(lines));
      assertEquals(App.Outcome.WORK_ABANDONED, r.outcome(), lines::toString);
      assertEquals(4, r.exitCode());
      assertEquals(List.of("stubborn"), r.abandoned());
      assertEquals(
          List.of("stubborn"), r.stragglers().stream().map(s -> s.name()).toList(), r::toString);
      assertTrue(r.stragglers().getFirst().mustFinish());
      assertEquals(Duration.ofSeconds(4), r.shutdownTime(), "the grace, then one kill timeout");
      assertEquals(startedThenStopped(5), events);
    } finally {
      release.countDown();
    }
  }

  /**
   * The sibling must be asleep in its body before the error strikes: a task cancelled before its
   * body started never runs its body ({@link dev.lifespan.Task}), so a latch in the body's {@code
   * finally} cannot show that it was cancelled. Without the wait, once under load (the sibling's
   * carrier thread not yet scheduled when the error aborted the supervisor), the sibling ended
   * CANCELLED without running its body and the latch never counted down, which looked like a
   * sibling that nobody cancelled.
   */
  @ParameterizedTest(name = "{0} in a task of a layer's supervisor")
  @ValueSource(strings = {"OutOfMemoryError", "StackOverflowError"})
  void aFatalErrorInALayersTaskFailsTheApplication(String which) throws Exception {
    VirtualMachineError fatal =
        which.equals("OutOfMemoryError")
            ? new OutOfMemoryError("injected")
            : new StackOverflowError("injected");
    CountDownLatch siblingAsleep = new CountDownLatch(1);
    CountDownLatch siblingCancelled = new CountDownLatch(1);
    CountDownLatch go = new CountDownLatch(1);
    List<Task<?>> sibling = new CopyOnWriteArrayList<>();
    App app =
        App.start(
            options(),
            stack(
                3,
                ctx -> {
                  sibling.add(
                      ctx.supervisor()
                          .spawn(
                              "sibling",
                              () -> {
                                siblingAsleep.countDown();
                                try {
                                  Thread.sleep(FOREVER);
                                } catch (InterruptedException e) {
                                  siblingCancelled.countDown();
                                  throw e;
                                }
                              }));
                  ctx.supervisor()
                      .spawn(
                          "fatal",
                          () -> {
                            go.await(); // once every layer has started
                            throw fatal;
                          });
                }),
            null);
    assertTrue(app.awaitReady());
    siblingAsleep.await();
    go.countDown();
    App.Result r = app.await(); // the error stops the application; no deadline is involved
    assertEquals(0, siblingCancelled.getCount(), "the sibling's sleep was interrupted");
    assertEquals(Future.State.CANCELLED, sibling.getFirst().state());
    assertEquals(App.Outcome.FAILED, r.outcome(), lines::toString);
    assertEquals(1, r.exitCode());
    assertTrue(contains(r.failure(), fatal), "the failure carries the error: " + r.failure());
    assertEquals(startedThenStopped(5), events);
  }

  @Test
  void aStackOverflowInATaskGroupComesOutOfTheMainBodyAsItself() throws Exception {
    App app =
        App.start(
            options(),
            stack(0, NONE),
            () ->
                TaskGroup.run(
                    "recursion",
                    g -> {
                      g.spawn("deep", LifespanFaultsTest::recurse);
                      g.spawn("sleeper", () -> Thread.sleep(FOREVER));
                    }));
    App.Result r = app.await();
    assertEquals(App.Outcome.FAILED, r.outcome());
    assertInstanceOf(StackOverflowError.class, r.failure());
    assertEquals(startedThenStopped(5), events);
  }

  private static void recurse() {
    recurse();
  }

  @Test
  void aFailureHandlerThatThrowsIsContainedAndCalledOnce() throws Exception {
    java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.lifespan");
    List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler capture =
        new java.util.logging.Handler() {
          @Override
          public void publish(java.util.logging.LogRecord r) {
            records.add(r);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    log.addHandler(capture);
    log.setUseParentHandlers(false); // provoked on purpose: captured and checked, not printed
    try {
      failureHandlerThatThrows();
    } finally {
      log.removeHandler(capture);
      log.setUseParentHandlers(true);
    }
    assertEquals(
        1,
        records.stream()
            .filter(r -> r.getMessage().contains("failure handler of supervisor 'jobs' threw"))
            .count(),
        records.toString());
  }

  private void failureHandlerThatThrows() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    CountDownLatch siblingDone = new CountDownLatch(1);
    App app =
        App.start(
            options(),
            stack(0, NONE),
            () -> {
              var report =
                  Supervisor.run(
                      Supervisor.Options.named("jobs")
                          .withFailureHandler(
                              (task, failure) -> {
                                calls.incrementAndGet();
                                throw new IllegalStateException("the handler fails too");
                              }),
                      sup -> {
                        var failing =
                            sup.spawn(
                                "failing",
                                () -> {
                                  throw new IllegalArgumentException("task failed");
                                });
                        sup.spawn("sibling", siblingDone::countDown);
                        while (!failing.isDone()) Thread.sleep(1);
                        siblingDone.await();
                        assertEquals(Supervisor.State.RUNNING, sup.state());
                      });
              assertTrue(report.clean(), report::toString);
            });
    App.Result r = app.await();
    assertEquals(App.Outcome.SUCCEEDED, r.outcome(), () -> lines + " " + r.failure());
    assertEquals(1, calls.get());
    assertEquals(startedThenStopped(5), events);
  }

  private static boolean isCancellation(Throwable t) {
    for (; t != null; t = t.getCause()) {
      if (t instanceof CancelledException || t instanceof InterruptedException) return true;
    }
    return false;
  }

  private static boolean contains(Throwable t, Throwable wanted) {
    if (t == null) return false;
    if (t == wanted) return true;
    if (contains(t.getCause(), wanted)) return true;
    for (Throwable s : t.getSuppressed()) {
      if (contains(s, wanted)) return true;
    }
    return false;
  }
}
