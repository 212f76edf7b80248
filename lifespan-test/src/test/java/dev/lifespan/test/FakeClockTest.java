package dev.lifespan.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.Lifespan;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

@NoLeaks
class FakeClockTest {
  private static final Duration REAL = Duration.ofSeconds(30);
  private final FakeClock clock = new FakeClock();

  @Test
  void awaitDeadlineReturnsOnceTheApplicationWaitsAndTheAdvanceEndsThatWait() throws Exception {
    Instant start = clock.instant();
    App app =
        App.start(
            App.Options.named("sleeper").withClock(clock),
            Lifespan.of(),
            () -> CancelScope.sleep(Duration.ofSeconds(5)));
    assertEquals(start.plusSeconds(5), clock.awaitDeadlineWithin(Duration.ofSeconds(5), REAL));
    assertEquals(Optional.of(start.plusSeconds(5)), clock.nextDeadline());
    clock.advance(Duration.ofSeconds(5));
    assertEquals(App.Outcome.SUCCEEDED, app.await().outcome());
    assertEquals(Duration.ofSeconds(5), app.uptime(), "the sleep ended at 5 s, not later");
  }

  @Test
  void awaitDeadlineIgnoresWaitsLaterThanTheTimeAsked() throws Exception {
    App app =
        App.start(
            App.Options.named("sleeper").withClock(clock),
            Lifespan.of(),
            () -> CancelScope.sleep(Duration.ofSeconds(5)));
    clock.awaitPending(1, REAL);
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> clock.awaitDeadlineWithin(Duration.ofSeconds(1), Duration.ofMillis(20)));
    assertTrue(
        e.getMessage().startsWith("FakeClock: no deadline or timed wait at or before now + PT1S"),
        e.getMessage());
    assertTrue(e.getMessage().contains("1 pending, the earliest at now + PT5S"), e.getMessage());
    clock.advance(Duration.ofSeconds(5));
    assertEquals(App.Outcome.SUCCEEDED, app.await().outcome());
  }

  @Test
  void awaitPendingCountsTheWaitsOfEveryThread() throws Exception {
    App app =
        App.start(
            App.Options.named("two").withClock(clock),
            Lifespan.of(),
            () ->
                dev.lifespan.TaskGroup.run(
                    "g",
                    g -> {
                      g.spawn("a", () -> CancelScope.sleep(Duration.ofSeconds(1)));
                      CancelScope.sleep(Duration.ofSeconds(2));
                    }));
    clock.awaitPending(2, REAL);
    assertEquals(2, clock.pendingDeadlines());
    clock.advance(Duration.ofSeconds(2));
    assertEquals(App.Outcome.SUCCEEDED, app.await().outcome());
  }

  @Test
  void awaitPendingFailsWithWhatIsPendingAfterItsTimeout() {
    FakeClock idle = new FakeClock();
    idle.advance(Duration.ofSeconds(2));
    AssertionError e =
        assertThrows(AssertionError.class, () -> idle.awaitPending(1, Duration.ofMillis(20)));
    assertTrue(e.getMessage().contains("1 deadlines or timed waits expected"), e.getMessage());
    assertTrue(e.getMessage().contains("0 pending; clock PT2S since its start"), e.getMessage());
  }

  @Test
  void badArgumentsAreRefusedNamingTheValue() {
    assertEquals(
        "count < 0: -1",
        assertThrows(IllegalArgumentException.class, () -> clock.awaitPending(-1, REAL))
            .getMessage());
    assertEquals(
        "timeout <= 0: PT0S",
        assertThrows(
                IllegalArgumentException.class,
                () -> clock.awaitDeadline(clock.instant(), Duration.ZERO))
            .getMessage());
    assertThrows(NullPointerException.class, () -> clock.awaitDeadline(null, REAL));
  }
}
