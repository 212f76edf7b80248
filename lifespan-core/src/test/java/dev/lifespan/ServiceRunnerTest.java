package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.ServiceSpec.Restart;
import dev.lifespan.internal.Exceptions;
import dev.lifespan.internal.FakeTimer;
import dev.lifespan.internal.RestartIntensityExceeded;
import dev.lifespan.internal.ServiceRunner;
import dev.lifespan.internal.ThreadFrame;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Restart policy, backoff and intensity of one service, on the fake clock. Tests read as a
 * timeline: the body and the listener log to {@link #events}, the test thread takes each event in
 * turn and moves time.
 */
class ServiceRunnerTest {
  private static final Duration FOREVER = Duration.ofDays(1);
  private final FakeTimer clock = new FakeTimer();
  private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
  private final AtomicInteger runs = new AtomicInteger();

  /**
   * A body whose nth run does {@code script[n-1]}: "fail", "return" or "block" (until cancelled).
   */
  private CheckedRunnable scripted(String... script) {
    return () -> {
      int n = runs.incrementAndGet();
      events.add("run " + n + " @" + clock.nanoTime() / 1_000_000 + "ms");
      switch (script[n - 1]) {
        case "fail" -> throw new IOException("failure " + n);
        case "return" -> {}
        case "block" -> Thread.sleep(FOREVER);
        default -> throw new AssertionError(script[n - 1]);
      }
    };
  }

  private void restarting(String service, int attempt, Throwable cause, Duration delay) {
    String after = cause == null ? "return" : cause.getMessage();
    events.add(
        service + " restarting #" + attempt + " in " + delay.toMillis() + "ms after " + after);
  }

  /** Runs {@code body} in a task group whose scopes use the fake clock. */
  private void onFakeClock(ScopedRunnable<TaskGroup, Exception> body) throws Exception {
    ThreadFrame.withTimer(
        clock,
        t -> {
          TaskGroup.run("services", body);
          return null;
        });
    assertEquals(0, clock.pending(), "no deadline left behind");
  }

  /**
   * Forks the runner; the task returns what the runner threw (null if it returned) or is cancelled.
   */
  private Task<Throwable> start(TaskGroup g, ServiceSpec spec) {
    return g.fork(
        () -> {
          try {
            ServiceRunner.run(spec, this::restarting, new Random(7));
            events.add("returned");
            return null;
          } catch (Exception e) {
            events.add("threw " + e.getClass().getSimpleName());
            if (Exceptions.isCancellation(e)) throw e;
            return e;
          }
        });
  }

  /** Runs the service on the test thread, outside any scope. */
  private void runHere(ServiceSpec spec) throws Exception {
    ServiceRunner.run(spec, this::restarting, new Random(1));
  }

  /** Waits until the runner has armed its backoff sleep; then only the fake clock can end it. */
  private void awaitBackoffSleep() {
    while (clock.pending() == 0) Thread.onSpinWait();
  }

  /** Moves time to just before the wait ends, checks the body did not run, and ends the wait. */
  private void elapse(Duration delay) {
    awaitBackoffSleep();
    clock.advance(delay.minusNanos(1));
    assertEquals(1, clock.pending(), "still waiting");
    assertTrue(events.isEmpty(), "nothing happened before the delay: " + events);
    clock.advance(Duration.ofNanos(1));
  }

  private static ServiceSpec spec(String name, CheckedRunnable body) {
    return ServiceSpec.of(name, body).withJitter(0);
  }

  @Test
  void transientFailuresRestartAfterDoublingDelaysUntilTheBodyReturns() throws Exception {
    onFakeClock(
        g -> {
          Task<Throwable> runner = start(g, spec("db", scripted("fail", "fail", "return")));
          assertEquals("run 1 @0ms", events.take());
          assertEquals("db restarting #1 in 100ms after failure 1", events.take());
          elapse(Duration.ofMillis(100));
          assertEquals("run 2 @100ms", events.take());
          assertEquals("db restarting #2 in 200ms after failure 2", events.take());
          elapse(Duration.ofMillis(200));
          assertEquals("run 3 @300ms", events.take());
          assertEquals("returned", events.take());
          assertNull(runner.join());
        });
  }

  @Test
  void transientServiceThatReturnsIsNotRestarted() throws Exception {
    runHere(spec("once", scripted("return")));
    assertEquals(List.of("run 1 @0ms"), List.copyOf(events));
  }

  @Test
  void permanentServiceRestartsAfterANormalReturn() throws Exception {
    onFakeClock(
        g -> {
          ServiceSpec spec =
              spec("loop", scripted("return", "return", "block")).withRestart(Restart.PERMANENT);
          Task<Throwable> runner = start(g, spec);
          assertEquals("run 1 @0ms", events.take());
          assertEquals("loop restarting #1 in 100ms after return", events.take());
          elapse(Duration.ofMillis(100));
          assertEquals("run 2 @100ms", events.take());
          assertEquals("loop restarting #2 in 200ms after return", events.take());
          elapse(Duration.ofMillis(200));
          assertEquals("run 3 @300ms", events.take());
          runner.cancel();
          assertThrows(CancellationException.class, runner::join);
          assertEquals("threw InterruptedException", events.take());
        });
  }

  @Test
  void temporaryFailureComesOutUnchangedAndIsNotRestarted() {
    ServiceSpec spec = spec("tmp", scripted("fail")).withRestart(Restart.TEMPORARY);
    IOException e = assertThrows(IOException.class, () -> runHere(spec));
    assertEquals("failure 1", e.getMessage());
    assertEquals(List.of("run 1 @0ms"), List.copyOf(events));
  }

  @Test
  void fatalErrorIsNeverRestarted() {
    StackOverflowError fatal = new StackOverflowError();
    CheckedRunnable body =
        () -> {
          throw fatal;
        };
    ServiceSpec spec = spec("deep", body).withRestart(Restart.PERMANENT);
    assertSame(fatal, assertThrows(StackOverflowError.class, () -> runHere(spec)));
    assertTrue(events.isEmpty(), "no restart: " + events);
  }

  @Test
  void failureBeyondTheIntensityLimitEscalatesWithTheLastFailureAsCause() throws Exception {
    onFakeClock(
        g -> {
          ServiceSpec spec =
              spec("flaky", scripted("fail", "fail", "fail"))
                  .withBackoff(Duration.ofSeconds(1), 1, Duration.ofSeconds(1))
                  .withIntensity(2, Duration.ofSeconds(10));
          Task<Throwable> runner = start(g, spec);
          assertEquals("run 1 @0ms", events.take());
          assertEquals("flaky restarting #1 in 1000ms after failure 1", events.take());
          elapse(Duration.ofSeconds(1));
          assertEquals("run 2 @1000ms", events.take());
          assertEquals("flaky restarting #2 in 1000ms after failure 2", events.take());
          elapse(Duration.ofSeconds(1));
          assertEquals("run 3 @2000ms", events.take());
          assertEquals("threw RestartIntensityExceeded", events.take());
          var e = (RestartIntensityExceeded) runner.join();
          assertEquals(
              "Service 'flaky' failed 3 times within PT10S; restart intensity is 2 in PT10S",
              e.getMessage());
          assertEquals("flaky", e.serviceName());
          assertEquals("failure 3", e.getCause().getMessage());
        });
  }

  @Test
  void zeroRestartsEscalatesOnTheFirstFailure() {
    ServiceSpec spec = spec("strict", scripted("fail")).withIntensity(0, Duration.ofMinutes(1));
    var e = assertThrows(RestartIntensityExceeded.class, () -> runHere(spec));
    assertEquals(
        "Service 'strict' failed 1 time within PT1M; restart intensity is 0 in PT1M",
        e.getMessage());
    assertEquals(List.of("run 1 @0ms"), List.copyOf(events));
  }

  @Test
  void failuresSpacedByThePeriodDoNotAccumulateAndRestartTheBackoff() throws Exception {
    onFakeClock(
        g -> {
          ServiceSpec spec =
              spec("slow", scripted("fail", "fail", "fail", "return"))
                  .withBackoff(Duration.ofSeconds(10), 3, Duration.ofMinutes(1))
                  .withIntensity(1, Duration.ofSeconds(10));
          Task<Throwable> runner = start(g, spec);
          for (int n = 1; n <= 3; n++) {
            assertEquals("run " + n + " @" + (n - 1) * 10_000 + "ms", events.take());
            assertEquals("slow restarting #1 in 10000ms after failure " + n, events.take());
            elapse(Duration.ofSeconds(10));
          }
          assertEquals("run 4 @30000ms", events.take());
          assertEquals("returned", events.take());
          assertNull(runner.join());
        });
  }

  @Test
  void cancellationDuringTheBodyEndsTheRunWithoutRestart() throws Exception {
    onFakeClock(
        g -> {
          Task<Throwable> runner = start(g, spec("svc", scripted("block")));
          assertEquals("run 1 @0ms", events.take());
          runner.cancel();
          assertThrows(CancellationException.class, runner::join);
          assertEquals(List.of("threw InterruptedException"), List.copyOf(events));
        });
  }

  @Test
  void failureWhileCancelledComesOutAndIsNotRestarted() throws Exception {
    onFakeClock(
        g -> {
          CheckedRunnable body =
              () -> {
                events.add("run");
                try {
                  Thread.sleep(FOREVER);
                } catch (InterruptedException e) {
                  throw new IOException("cleanup failed");
                }
              };
          Task<Throwable> runner = start(g, spec("svc", body));
          assertEquals("run", events.take());
          runner.cancel();
          assertEquals("cleanup failed", runner.join().getMessage());
          assertEquals(List.of("threw IOException"), List.copyOf(events));
        });
  }

  @Test
  void cancellationDuringTheBackoffEndsTheRunAtOnce() throws Exception {
    onFakeClock(
        g -> {
          Task<Throwable> runner = start(g, spec("svc", scripted("fail", "return")));
          assertEquals("run 1 @0ms", events.take());
          assertEquals("svc restarting #1 in 100ms after failure 1", events.take());
          awaitBackoffSleep();
          runner.cancel();
          assertThrows(CancellationException.class, runner::join);
          assertEquals(List.of("threw CancelledException"), List.copyOf(events));
          assertEquals(1, runs.get(), "not restarted");
        });
  }

  @Test
  void backoffIsCappedAtTheMaximum() throws Exception {
    onFakeClock(
        g -> {
          ServiceSpec spec =
              spec("capped", scripted("fail", "fail", "fail", "fail", "return"))
                  .withBackoff(Duration.ofMillis(100), 10, Duration.ofMillis(2500));
          Task<Throwable> runner = start(g, spec);
          long[] delays = {100, 1000, 2500, 2500};
          long at = 0;
          for (int n = 1; n <= delays.length; n++) {
            assertEquals("run " + n + " @" + at + "ms", events.take());
            String restarting = "capped restarting #" + n + " in " + delays[n - 1] + "ms";
            assertEquals(restarting + " after failure " + n, events.take());
            elapse(Duration.ofMillis(delays[n - 1]));
            at += delays[n - 1];
          }
          assertEquals("run 5 @6100ms", events.take());
          assertEquals("returned", events.take());
          assertNull(runner.join());
        });
  }
}
