package dev.lifespan.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.CheckedRunnable;
import dev.lifespan.Lifespan;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An application's shutdown as a timeline on the fake clock: one budget counted from the first
 * signal, the drain delay inside it, and honest outcomes. Regressions of the runner that waited out
 * a drain delay past its own hard deadline, printed a false "time left", and exited 143 after
 * abandoning must-finish work.
 */
class ShutdownTimelineTest {
  private static final Duration FOREVER = Duration.ofDays(1);
  private final FakeClock clock = new FakeClock();
  private final List<String> lines = new CopyOnWriteArrayList<>();

  /** The progress sink: records each line and wakes {@link #awaitLine}. */
  private void record(String line) {
    synchronized (lines) {
      lines.add(line);
      lines.notifyAll();
    }
  }

  private final CountDownLatch running = new CountDownLatch(1);

  private App.Options options(String name) {
    return App.Options.named(name)
        .withClock(clock)
        .withGrace(Duration.ofSeconds(10))
        .withTeardownTimeout(Duration.ofSeconds(5))
        .withKillTimeout(Duration.ofSeconds(2))
        .withProgressInterval(Duration.ofHours(1)) // no repeated lines unless a test asks
        .withProgress(this::record);
  }

  /** A layer whose supervisor runs one must-finish task, 'flush': {@code body} after running. */
  private Lifespan flush(CheckedRunnable body) {
    return Lifespan.named(
        "jobs",
        ctx -> {
          ctx.supervisor()
              .spawnMustFinish(
                  "flush",
                  () -> {
                    running.countDown();
                    body.run();
                  });
          ctx.proceed();
        });
  }

  /** {@link #flush} that ends only if cancelled. */
  private Lifespan flushForever() {
    return flush(() -> Thread.sleep(FOREVER));
  }

  private boolean printed(String text) {
    return lines.stream().anyMatch(l -> l.contains(text));
  }

  /** Whether a line ends with {@code message}: {@code [ 4.00 s] orders: <message>}. */
  private boolean printedLine(String message) {
    return lines.stream().anyMatch(l -> l.endsWith(": " + message));
  }

  /** Waits (bounded, in real time) for a line the application prints on its own threads. */
  private String awaitLine(String text) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    synchronized (lines) {
      while (true) {
        for (String l : lines) {
          if (l.contains(text)) return l;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) throw new AssertionError("no line containing '" + text + "' in " + lines);
        TimeUnit.NANOSECONDS.timedWait(lines, left);
      }
    }
  }

  @Test
  void theGracePeriodIncludesTheDrainDelayAndAbandonedWorkHasItsOwnOutcome() throws Exception {
    App app =
        App.start(options("orders").withDrainDelay(Duration.ofSeconds(4)), flushForever(), null);
    assertTrue(app.awaitReady());
    running.await();
    app.signal(App.Signal.TERM);
    awaitLine("draining for 4.0 s");

    clock.advance(Duration.ofMillis(3999));
    assertFalse(printedLine("stopping the main body"), "the drain ended early: " + lines);
    clock.advance(Duration.ofMillis(1));
    awaitLine(
        "stopping supervisor 'orders/jobs': waiting for 1 must-finish: 'flush'; 6.0 s of grace left");

    clock.advance(Duration.ofMillis(5999));
    assertTrue(app.await(Duration.ZERO).isEmpty(), "the grace ended early: " + lines);
    clock.advance(Duration.ofMillis(1)); // ten seconds after the signal, drain included

    App.Result r = app.await();
    assertEquals(App.Outcome.WORK_ABANDONED, r.outcome());
    assertEquals(4, r.exitCode());
    assertEquals(List.of("flush"), r.abandoned());
    assertEquals(Duration.ofSeconds(10), r.shutdownTime());
    assertTrue(
        lines
            .getLast()
            .endsWith(
                "stopped 10000 ms after the shutdown request: WORK_ABANDONED, exit code 4;"
                    + " 1 must-finish task abandoned at the end of the grace period: 'flush'"),
        lines.getLast());
  }

  @Test
  void aCleanStopKeepsItsSignalsOutcome() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    App app = App.start(options("orders"), flush(release::await), null);
    running.await();
    app.signal(App.Signal.TERM);
    clock.advance(Duration.ofSeconds(9));
    release.countDown();
    App.Result r = app.await();
    assertEquals(App.Outcome.TERMINATED, r.outcome());
    assertEquals(143, r.exitCode());
    assertTrue(r.abandoned().isEmpty());
  }

  @Test
  void aSecondSigtermTellsTheTruthAboutTheTimeLeft() throws Exception {
    App app = App.start(options("orders"), flushForever(), null);
    running.await();
    app.signal(App.Signal.TERM);
    assertTrue(
        awaitLine("SIGTERM received: shutting down")
            .endsWith("grace 10.0 s, hard deadline in 15.0 s, exit in at most 17.0 s"),
        lines.toString());
    clock.advance(Duration.ofSeconds(3));
    app.signal(App.Signal.TERM);
    assertTrue(
        awaitLine("SIGTERM received again")
            .endsWith(
                "already shutting down, 7.0 s of grace left, exit in at most 14.0 s;"
                    + " a second SIGINT forces"),
        lines.toString());
    clock.advance(Duration.ofSeconds(7));
    assertEquals(App.Outcome.WORK_ABANDONED, app.await().outcome());
  }

  @Test
  void aTeardownThatIgnoresCancellationIsGivenUpOnAtTheBudgetsEnd() throws Exception {
    CountDownLatch tearingDown = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1); // ends the stuck teardown after the test
    Lifespan stuck =
        Lifespan.named(
            "stuck",
            ctx -> {
              ctx.proceed();
              tearingDown.countDown();
              while (release.getCount() > 0) {
                try {
                  release.await();
                } catch (InterruptedException ignored) {
                  // a teardown that swallows every cancellation
                }
              }
            });
    App app = App.start(options("stuck"), stuck, null);
    try {
      givenUpAtTheBudgetsEnd(app, tearingDown);
    } finally {
      release.countDown();
    }
  }

  private void givenUpAtTheBudgetsEnd(App app, CountDownLatch tearingDown) throws Exception {
    assertTrue(app.awaitReady());
    app.signal(App.Signal.TERM);
    tearingDown.await();

    clock.advance(Duration.ofMillis(14_999)); // just before the hard deadline (grace + teardown)
    assertTrue(app.await(Duration.ZERO).isEmpty());
    assertFalse(printed("hard deadline reached"), lines.toString());
    clock.advance(Duration.ofMillis(1));
    awaitLine("hard deadline reached: cancelling everything still running, shields included");
    clock.advance(Duration.ofMillis(1999)); // the kill timeout, but for one millisecond
    assertTrue(app.await(Duration.ZERO).isEmpty());
    clock.advance(Duration.ofMillis(1));

    App.Result r = app.await();
    assertTrue(r.gaveUp());
    assertEquals(App.Outcome.WORK_ABANDONED, r.outcome());
    assertEquals(Duration.ofSeconds(17), r.shutdownTime(), "grace + teardown + kill");
    assertTrue(printed("giving up: the application has not ended"), lines.toString());
    assertTrue(printed("runner thread 'app 'stuck''"), lines.toString());
  }

  @Test
  void awaitWithATimeoutWaitsOnTheApplicationsClock() throws Exception {
    App app = App.start(options("idle"), Lifespan.named("idle", ctx -> ctx.proceed()), null);
    assertTrue(app.awaitReady());
    Thread advancer =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (clock.pendingDeadlines() == 0) Thread.onSpinWait(); // await's alarm
                  clock.advance(Duration.ofHours(1));
                });
    assertTrue(app.await(Duration.ofHours(1)).isEmpty(), "an hour on the fake clock passed");
    advancer.join();
    app.requestShutdown();
    assertEquals(App.Outcome.SUCCEEDED, app.await().outcome());
  }

  @Test
  void optionsThatCannotFitAreRefusedInOneLineBeforeAnythingStarts() {
    App.Options o =
        options("orders").withGrace(Duration.ofSeconds(5)).withDrainDelay(Duration.ofSeconds(40));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> App.start(o, flushForever(), null));
    assertEquals(
        "drain delay PT40S must be shorter than the grace period PT5S (app 'orders')",
        e.getMessage());
    assertEquals(1, running.getCount(), "nothing started");
    assertThrows(
        IllegalArgumentException.class,
        () -> o.withDrainDelay(Duration.ofHours(1)).validate(),
        "a drain delay of an hour never fits a grace of 5 s");
    App.Options fits = o.withDrainDelay(Duration.ofSeconds(4));
    assertSame(fits, fits.validate());
  }
}
