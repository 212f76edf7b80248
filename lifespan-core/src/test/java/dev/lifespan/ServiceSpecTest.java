package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.ServiceSpec.Restart;
import dev.lifespan.internal.ServiceRunner;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The settings of a service spec, their validation, and the backoff they give. */
class ServiceSpecTest {
  private static final CheckedRunnable NOTHING = () -> {};
  private final ServiceSpec spec = ServiceSpec.of("db-pool", NOTHING);

  private static void assertInvalid(String message, Executable call) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, call).getMessage());
  }

  private static void assertNpe(String parameter, Executable call) {
    assertEquals(parameter, assertThrows(NullPointerException.class, call).getMessage());
  }

  @Test
  void defaults() {
    assertEquals("db-pool", spec.name());
    assertSame(NOTHING, spec.body());
    assertEquals(Restart.TRANSIENT, spec.restart());
    assertEquals(Duration.ofMillis(100), spec.initialBackoff());
    assertEquals(2.0, spec.backoffMultiplier());
    assertEquals(Duration.ofSeconds(30), spec.maxBackoff());
    assertEquals(0.2, spec.jitter());
    assertEquals(5, spec.maxRestarts());
    assertEquals(Duration.ofSeconds(60), spec.intensityPeriod());
  }

  @Test
  void withMethodsCopyAndLeaveTheOriginalUnchanged() {
    ServiceSpec changed =
        spec.withRestart(Restart.PERMANENT)
            .withBackoff(Duration.ofSeconds(1), 3, Duration.ofSeconds(9))
            .withJitter(0)
            .withIntensity(2, Duration.ofMinutes(5));
    assertEquals(
        "ServiceSpec[db-pool, PERMANENT, backoff=PT1S*3.0 up to PT9S, jitter=0.0,"
            + " intensity=2 in PT5M]",
        changed.toString());
    assertEquals(
        "ServiceSpec[db-pool, TRANSIENT, backoff=PT0.1S*2.0 up to PT30S, jitter=0.2,"
            + " intensity=5 in PT1M]",
        spec.toString());
  }

  @Test
  void invalidSettingsAreRejectedWithTheirValueAndTheService() {
    Duration s = Duration.ofSeconds(1);
    assertInvalid("service name is empty", () -> ServiceSpec.of("", NOTHING));
    assertInvalid(
        "initial backoff < 0: PT-1S (service 'db-pool')",
        () -> spec.withBackoff(s.negated(), 2, s));
    assertInvalid("multiplier < 1: 0.5 (service 'db-pool')", () -> spec.withBackoff(s, 0.5, s));
    assertInvalid(
        "multiplier not finite: NaN (service 'db-pool')", () -> spec.withBackoff(s, Double.NaN, s));
    assertInvalid(
        "multiplier not finite: Infinity (service 'db-pool')",
        () -> spec.withBackoff(s, Double.POSITIVE_INFINITY, s));
    assertInvalid(
        "max backoff < initial backoff: PT0.5S < PT1S (service 'db-pool')",
        () -> spec.withBackoff(s, 2, Duration.ofMillis(500)));
    assertInvalid(
        "jitter not in [0, 1]: NaN (service 'db-pool')", () -> spec.withJitter(Double.NaN));
    assertInvalid("jitter not in [0, 1]: -0.1 (service 'db-pool')", () -> spec.withJitter(-0.1));
    assertInvalid("jitter not in [0, 1]: 1.5 (service 'db-pool')", () -> spec.withJitter(1.5));
    assertInvalid("maxRestarts < 0: -1 (service 'db-pool')", () -> spec.withIntensity(-1, s));
    assertInvalid(
        "period <= 0: PT0S (service 'db-pool')", () -> spec.withIntensity(1, Duration.ZERO));
    assertInvalid(
        "period <= 0: PT-1S (service 'db-pool')", () -> spec.withIntensity(1, s.negated()));
  }

  @Test
  void theCanonicalConstructorChecksWhatTheWithMethodsCheck() {
    Duration s = Duration.ofSeconds(1);
    Restart r = Restart.TRANSIENT;
    assertInvalid("service name is empty", () -> new ServiceSpec("", NOTHING, r, s, 2, s, 0, 1, s));
    assertInvalid(
        "initial backoff < 0: PT-1S (service 'x')",
        () -> new ServiceSpec("x", NOTHING, r, s.negated(), 2, s, 0, 1, s));
    assertInvalid(
        "multiplier < 1: 0.5 (service 'x')",
        () -> new ServiceSpec("x", NOTHING, r, s, 0.5, s, 0, 1, s));
    assertInvalid(
        "max backoff < initial backoff: PT0S < PT1S (service 'x')",
        () -> new ServiceSpec("x", NOTHING, r, s, 2, Duration.ZERO, 0, 1, s));
    assertInvalid(
        "jitter not in [0, 1]: 2.0 (service 'x')",
        () -> new ServiceSpec("x", NOTHING, r, s, 2, s, 2, 1, s));
    assertInvalid(
        "maxRestarts < 0: -1 (service 'x')",
        () -> new ServiceSpec("x", NOTHING, r, s, 2, s, 0, -1, s));
    assertInvalid(
        "period <= 0: PT0S (service 'x')",
        () -> new ServiceSpec("x", NOTHING, r, s, 2, s, 0, 1, Duration.ZERO));
    assertNpe("restart", () -> new ServiceSpec("x", NOTHING, null, s, 2, s, 0, 1, s));
    assertNpe("intensityPeriod", () -> new ServiceSpec("x", NOTHING, r, s, 2, s, 0, 1, null));
    assertEquals(spec, ServiceSpec.of("db-pool", NOTHING), "a value: equal settings, equal specs");
  }

  @Test
  void boundarySettingsAreAccepted() {
    ServiceSpec edge =
        spec.withBackoff(Duration.ZERO, 1, Duration.ZERO)
            .withJitter(1)
            .withIntensity(0, Duration.ofNanos(1));
    assertEquals(Duration.ZERO, edge.maxBackoff());
    assertEquals(1.0, edge.jitter());
    assertEquals(0, edge.maxRestarts());
    assertEquals(Duration.ofNanos(1), edge.intensityPeriod());
  }

  @Test
  void nullArgumentsNameTheParameter() {
    Duration s = Duration.ofSeconds(1);
    assertNpe("name", () -> ServiceSpec.of(null, NOTHING));
    assertNpe("body", () -> ServiceSpec.of("x", null));
    assertNpe("restart", () -> spec.withRestart(null));
    assertNpe("initial", () -> spec.withBackoff(null, 2, s));
    assertNpe("max", () -> spec.withBackoff(s, 2, null));
    assertNpe("period", () -> spec.withIntensity(1, null));
    assertNpe("spec", () -> ServiceRunner.delay(null, 1, new Random(1)));
    assertNpe("random", () -> ServiceRunner.delay(spec, 1, null));
    assertNpe("spec", () -> ServiceRunner.run(null, (a, b, c, d) -> {}, new Random(1)));
    assertNpe("listener", () -> ServiceRunner.run(spec, null, new Random(1)));
    assertNpe("random", () -> ServiceRunner.run(spec, (a, b, c, d) -> {}, null));
  }

  @Test
  void delayGrowsByTheMultiplierUpToTheMaximum() {
    ServiceSpec exact =
        spec.withBackoff(Duration.ofMillis(100), 1.5, Duration.ofMillis(300)).withJitter(0);
    Random unused = new Random(1);
    assertEquals(Duration.ofMillis(100), ServiceRunner.delay(exact, 1, unused));
    assertEquals(Duration.ofMillis(150), ServiceRunner.delay(exact, 2, unused));
    assertEquals(Duration.ofMillis(225), ServiceRunner.delay(exact, 3, unused));
    assertEquals(Duration.ofMillis(300), ServiceRunner.delay(exact, 4, unused));
    assertEquals(Duration.ofMillis(300), ServiceRunner.delay(exact, Integer.MAX_VALUE, unused));
    assertEquals(new Random(1).nextLong(), unused.nextLong(), "jitter 0 draws nothing");
    assertInvalid(
        "attempt < 1: 0 (service 'db-pool')", () -> ServiceRunner.delay(exact, 0, unused));
  }

  @Test
  void zeroBackoffRestartsAtOnceWhateverTheAttempt() {
    ServiceSpec immediate = spec.withBackoff(Duration.ZERO, 2, Duration.ZERO).withJitter(1);
    assertEquals(Duration.ZERO, ServiceRunner.delay(immediate, Integer.MAX_VALUE, new Random(1)));
  }

  @Test
  void hugeMaximumSaturatesInsteadOfOverflowing() {
    Duration forever = Duration.ofDays(365L * 1000);
    ServiceSpec spec = this.spec.withBackoff(Duration.ofSeconds(1), 10, forever).withJitter(0);
    assertEquals(forever, ServiceRunner.delay(spec, 1000, new Random(1)));
    assertEquals(Duration.ofSeconds(1000), ServiceRunner.delay(spec, 4, new Random(1)));
  }

  @Test
  void jitterStaysWithinItsFractionAndNeverExceedsTheMaximum() {
    ServiceSpec jittered =
        spec.withBackoff(Duration.ofSeconds(1), 2, Duration.ofSeconds(3)).withJitter(0.25);
    Random random = new Random(42);
    long[] base = {1000, 2000, 3000}; // attempt 3 is capped: jitter only shortens it
    for (int attempt = 1; attempt <= 3; attempt++) {
      long min = Long.MAX_VALUE, max = 0;
      for (int i = 0; i < 1000; i++) {
        long ms = ServiceRunner.delay(jittered, attempt, random).toMillis();
        min = Math.min(min, ms);
        max = Math.max(max, ms);
      }
      long b = base[attempt - 1];
      String at = "attempt " + attempt + ": [" + min + ", " + max + "]";
      assertTrue(min >= b * 3 / 4 && min < b * 4 / 5, at);
      assertTrue(max <= Math.min(3000, b * 5 / 4), at);
      assertTrue(max > Math.min(2999, b * 6 / 5), at);
    }
    assertEquals(
        ServiceRunner.delay(jittered, 2, new Random(3)),
        ServiceRunner.delay(jittered, 2, new Random(3)),
        "seeded jitter is reproducible");
  }
}
