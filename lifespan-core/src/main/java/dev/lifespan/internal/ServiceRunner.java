package dev.lifespan.internal;

import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.ServiceSpec;
import dev.lifespan.ServiceSpec.Restart;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Runs one supervised service on the calling thread: its body, then, as its {@link Restart} policy
 * says, a backoff wait and the body again, until the service ends for good or is restarted too
 * often. The supervisor calls it from the service's task; everything here happens on that thread.
 */
public final class ServiceRunner {
  private ServiceRunner() {}

  /** One end of the body that called for a restart: when, on the scope's clock, and how. */
  private record End(long nanos, boolean failed) {}

  /**
   * Runs {@code spec}'s body on the calling thread and restarts it as its policy says; returns when
   * the body returned and is not to be restarted.
   *
   * <p>After each end that calls for a restart this method counts it in the sliding intensity
   * window, measured on the clock of the calling thread's scope ({@link Clocks}); computes the
   * delay with {@link #delay}; tells {@code listener}; and waits with {@link CancelScope#sleep}. It
   * blocks for as long as the service keeps running or waiting; only its caller's cancellation (or
   * an interrupt from outside the library, seen during the wait) stops it early.
   *
   * <p>What ends it:
   *
   * <ul>
   *   <li>The body returned and the policy is not {@code PERMANENT}: returns normally.
   *   <li>The body threw and is not to be restarted: a {@code TEMPORARY} service's failure, a
   *       {@link CancelledException}, a {@link VirtualMachineError}, or anything thrown while the
   *       calling thread's scope is cancelled (an interruption, or a failure during cleanup). It is
   *       rethrown unchanged, checked or not.
   *   <li>The calling thread's scope is cancelled after the body returned normally, or during the
   *       wait: the {@code CancelledException} of {@code CancelScope.sleep} or of a checkpoint.
   *   <li>An end beyond the intensity limit: {@link RestartIntensityExceeded}, caused by the last
   *       failure (null if the body last returned normally).
   * </ul>
   *
   * <p>A failure that is restarted is reported only to {@code listener}; whatever the listener
   * throws comes out of this method. An interrupt from outside the library that leaves the body as
   * its failure is restarted like any failure.
   *
   * @param random the source of jitter, used on the calling thread only ({@code
   *     ThreadLocalRandom.current()} will do)
   */
  public static void run(ServiceSpec spec, RestartListener listener, RandomGenerator random)
      throws Exception {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(random, "random");
    Timer clock = Clocks.current();
    long period = Timer.saturatedNanos(spec.intensityPeriod());
    ArrayDeque<End> window = new ArrayDeque<>(); // ends less than period ago, oldest first
    while (true) {
      Throwable failure = null;
      try {
        spec.body().run();
      } catch (Throwable t) {
        failure = t;
      }
      if (failure == null ? spec.restart() != Restart.PERMANENT : !restartable(spec, failure)) {
        if (failure != null) throw Exceptions.sneaky(failure);
        return;
      }
      if (isCancelled()) {
        if (failure != null) throw Exceptions.sneaky(failure);
        CancelScope.checkpoint(); // throws the cancellation
      }
      long now = clock.nanoTime();
      while (!window.isEmpty() && now - window.peekFirst().nanos() >= period) window.removeFirst();
      window.addLast(new End(now, failure != null));
      int attempt = window.size();
      if (attempt > spec.maxRestarts()) throw exceeded(spec, window, failure);
      Duration delay = delay(spec, attempt, random);
      listener.restarting(spec.name(), attempt, failure, delay);
      CancelScope.sleep(delay);
    }
  }

  /**
   * The wait before restart number {@code attempt} within the intensity period, 1 for the first:
   *
   * <pre>
   *   base  = min(max, initial &times; multiplier^(attempt-1))
   *   delay = min(max, base &times; (1 + jitter &times; u)),  u = random.nextDouble(-1, 1)
   * </pre>
   *
   * computed in nanoseconds and rounded to the nearest one. With jitter 0 nothing is drawn from
   * {@code random} and the delay is exact; otherwise exactly one double is drawn.
   *
   * @throws IllegalArgumentException if {@code attempt < 1}
   */
  public static Duration delay(ServiceSpec spec, int attempt, RandomGenerator random) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(random, "random");
    if (attempt < 1) {
      throw new IllegalArgumentException(
          "attempt < 1: " + attempt + " (service '" + spec.name() + "')");
    }
    long maxNanos = Timer.saturatedNanos(spec.maxBackoff());
    long initialNanos = Timer.saturatedNanos(spec.initialBackoff());
    double grown =
        initialNanos == 0 ? 0 : initialNanos * Math.pow(spec.backoffMultiplier(), attempt - 1);
    double d = Math.min(maxNanos, grown);
    if (spec.jitter() > 0) d *= 1 + spec.jitter() * random.nextDouble(-1, 1);
    if (d >= maxNanos) return spec.maxBackoff();
    return Duration.ofNanos(Math.min(maxNanos, Math.round(d)));
  }

  private static boolean restartable(ServiceSpec spec, Throwable failure) {
    return spec.restart() != Restart.TEMPORARY
        && !(failure instanceof CancelledException)
        && !(failure instanceof VirtualMachineError);
  }

  /** Whether the calling thread's innermost scope sees a cancellation. */
  private static boolean isCancelled() {
    ScopeNode s = Scopes.current();
    return s != null && ScopeNode.cancelledFrom(s) != null;
  }

  private static RestartIntensityExceeded exceeded(
      ServiceSpec spec, ArrayDeque<End> window, Throwable last) {
    boolean allFailed = window.stream().allMatch(End::failed);
    int n = window.size();
    return new RestartIntensityExceeded(
        spec.name(),
        "Service '"
            + spec.name()
            + "' "
            + (allFailed ? "failed " : "ended ")
            + n
            + (n == 1 ? " time" : " times")
            + " within "
            + spec.intensityPeriod()
            + "; restart intensity is "
            + spec.maxRestarts()
            + " in "
            + spec.intensityPeriod(),
        last);
  }
}
