package dev.lifespan;

import java.time.Duration;
import java.util.Objects;

/**
 * An immutable description of a service that a supervisor runs and restarts: its name, its body,
 * when to restart it, how long to wait before each restart, and how many restarts are too many.
 *
 * {@snippet :
 * ServiceSpec poller = ServiceSpec.of("feed-poller", () -> pollForever(feed))
 *     .withRestart(ServiceSpec.Restart.PERMANENT)
 *     .withBackoff(Duration.ofMillis(250), 2, Duration.ofSeconds(10))
 *     .withIntensity(3, Duration.ofMinutes(1));
 * }
 *
 * <h2>Restart</h2>
 *
 * The body runs until it <em>ends</em>: it returns, or it throws. Whether it is then run again
 * depends on the {@link Restart} policy, after the manner of Erlang/OTP child specs. A cancellation
 * is never a failure and never restarts a service, and neither does anything else the body throws
 * while its scope is cancelled: it comes out unchanged, to be reported. Nor is a {@link
 * VirtualMachineError} ever restarted.
 *
 * <h2>Backoff</h2>
 *
 * Before the <em>n</em>th restart within the intensity period (see below) the service waits
 *
 * <pre>
 *   base(n)  = min(maxBackoff, initialBackoff &times; multiplier^(n-1))
 *   delay(n) = min(maxBackoff, base(n) &times; (1 + jitter &times; u)),  u uniform in [-1, 1)
 * </pre>
 *
 * so the delay grows exponentially from the initial backoff, stays within {@code jitter} (a
 * fraction) of that, and is never longer than the maximum. With jitter 0 the delays are exact. The
 * wait is {@link CancelScope#sleep}: on the scope's clock, and ended at once by cancellation.
 *
 * <h2>Intensity</h2>
 *
 * A service may be restarted at most {@code maxRestarts} times within any {@code period}. Every end
 * that calls for a restart is counted at the moment the body ended, on the scope's clock; an end
 * that finds {@code maxRestarts} counted ends less than {@code period} before it is one too many.
 * The service is then not restarted and the supervisor escalates: it fails, with the last failure
 * as the cause (none if the body last returned). Ends spaced at least {@code period} apart never
 * accumulate, and then each restart is the first of its period: the <em>n</em> of the backoff
 * counts the ends in the last {@code period}, so the backoff starts again from the initial delay
 * after a quiet period.
 *
 * <h2>Defaults</h2>
 *
 * {@link #of} gives: {@link Restart#TRANSIENT}; backoff from 100 ms, multiplier 2, at most 30 s;
 * jitter 0.2; intensity 5 restarts in 60 s.
 *
 * <p>Each {@code with} method returns a copy; a spec can be shared and reused freely. Invalid
 * arguments throw {@link IllegalArgumentException} naming the setting, its value and the service;
 * null arguments throw {@link NullPointerException} naming the parameter. The canonical constructor
 * checks its components the same way.
 *
 * @param name the service's name, not empty
 * @param body the service's body, run once per start and once per restart
 * @param restart when the service is restarted
 * @param initialBackoff the delay before the first restart of a period; not negative
 * @param backoffMultiplier the factor by which each further restart's delay grows; a finite number
 *     at least 1
 * @param maxBackoff the longest delay before a restart, jitter included; not shorter than {@code
 *     initialBackoff}
 * @param jitter the fraction, in [0, 1], by which a delay is randomly lengthened or shortened
 * @param maxRestarts the most restarts allowed within {@code intensityPeriod}; not negative
 * @param intensityPeriod the sliding window in which {@code maxRestarts} restarts are allowed;
 *     positive
 */
public record ServiceSpec(
    String name,
    CheckedRunnable body,
    Restart restart,
    Duration initialBackoff,
    double backoffMultiplier,
    Duration maxBackoff,
    double jitter,
    int maxRestarts,
    Duration intensityPeriod) {

  /** When a service whose body ended is run again. */
  public enum Restart {
    /** Never restarted: a failure is reported, a normal return ends the service. */
    TEMPORARY,
    /** Restarted after a failure; a normal return ends the service. */
    TRANSIENT,
    /** Restarted after a failure and after a normal return: it is meant to run forever. */
    PERMANENT
  }

  private static final Duration DEFAULT_INITIAL = Duration.ofMillis(100);
  private static final Duration DEFAULT_MAX = Duration.ofSeconds(30);
  private static final Duration DEFAULT_PERIOD = Duration.ofSeconds(60);

  /**
   * Checks the components.
   *
   * @throws IllegalArgumentException if a component is out of its range (see the class description)
   */
  public ServiceSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(body, "body");
    if (name.isEmpty()) throw new IllegalArgumentException("service name is empty");
    Objects.requireNonNull(restart, "restart");
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    Objects.requireNonNull(intensityPeriod, "intensityPeriod");
    if (initialBackoff.isNegative()) throw invalid(name, "initial backoff < 0: " + initialBackoff);
    if (!Double.isFinite(backoffMultiplier)) {
      throw invalid(name, "multiplier not finite: " + backoffMultiplier);
    }
    if (backoffMultiplier < 1) throw invalid(name, "multiplier < 1: " + backoffMultiplier);
    if (maxBackoff.compareTo(initialBackoff) < 0) {
      throw invalid(name, "max backoff < initial backoff: " + maxBackoff + " < " + initialBackoff);
    }
    if (!(jitter >= 0 && jitter <= 1)) throw invalid(name, "jitter not in [0, 1]: " + jitter);
    if (maxRestarts < 0) throw invalid(name, "maxRestarts < 0: " + maxRestarts);
    if (intensityPeriod.isNegative() || intensityPeriod.isZero()) {
      throw invalid(name, "period <= 0: " + intensityPeriod);
    }
  }

  /**
   * A spec for the service {@code name} that runs {@code body}, with the defaults: {@link
   * Restart#TRANSIENT}, backoff from 100 ms doubling up to 30 s with jitter 0.2, and at most 5
   * restarts in 60 s.
   *
   * @throws IllegalArgumentException if {@code name} is empty
   */
  public static ServiceSpec of(String name, CheckedRunnable body) {
    return new ServiceSpec(
        name, body, Restart.TRANSIENT, DEFAULT_INITIAL, 2, DEFAULT_MAX, 0.2, 5, DEFAULT_PERIOD);
  }

  /** A copy with the restart policy {@code restart}. */
  public ServiceSpec withRestart(Restart restart) {
    return new ServiceSpec(
        name,
        body,
        restart,
        initialBackoff,
        backoffMultiplier,
        maxBackoff,
        jitter,
        maxRestarts,
        intensityPeriod);
  }

  /**
   * A copy whose first restart waits {@code initial}, each further one {@code multiplier} times
   * longer than the one before, but never longer than {@code max}. An initial backoff of zero
   * restarts at once, every time.
   *
   * @throws IllegalArgumentException if {@code initial} is negative, {@code multiplier} is not a
   *     finite number at least 1, or {@code max} is shorter than {@code initial}
   */
  public ServiceSpec withBackoff(Duration initial, double multiplier, Duration max) {
    Objects.requireNonNull(initial, "initial");
    Objects.requireNonNull(max, "max");
    return new ServiceSpec(
        name, body, restart, initial, multiplier, max, jitter, maxRestarts, intensityPeriod);
  }

  /**
   * A copy whose backoff delays are spread randomly by up to {@code jitter} times their length,
   * either way (still never beyond the maximum backoff), so that services that failed together do
   * not restart together. 0 means exact delays.
   *
   * @throws IllegalArgumentException if {@code jitter} is not in [0, 1]
   */
  public ServiceSpec withJitter(double jitter) {
    return new ServiceSpec(
        name,
        body,
        restart,
        initialBackoff,
        backoffMultiplier,
        maxBackoff,
        jitter,
        maxRestarts,
        intensityPeriod);
  }

  /**
   * A copy that allows at most {@code maxRestarts} restarts within any {@code period}; one more
   * makes the supervisor escalate. With 0 the first end that would restart the service escalates.
   *
   * @throws IllegalArgumentException if {@code maxRestarts} is negative or {@code period} is not
   *     positive
   */
  public ServiceSpec withIntensity(int maxRestarts, Duration period) {
    Objects.requireNonNull(period, "period");
    return new ServiceSpec(
        name,
        body,
        restart,
        initialBackoff,
        backoffMultiplier,
        maxBackoff,
        jitter,
        maxRestarts,
        period);
  }

  private static IllegalArgumentException invalid(String name, String condition) {
    return new IllegalArgumentException(condition + " (service '" + name + "')");
  }

  /** The name and every setting, e.g. {@code ServiceSpec[db-pool, TRANSIENT, ...]}. */
  @Override
  public String toString() {
    return "ServiceSpec["
        + name
        + ", "
        + restart
        + ", backoff="
        + initialBackoff
        + "*"
        + backoffMultiplier
        + " up to "
        + maxBackoff
        + ", jitter="
        + jitter
        + ", intensity="
        + maxRestarts
        + " in "
        + intensityPeriod
        + "]";
  }
}
