package dev.lifespan.spring;

import java.time.Duration;
import java.util.Objects;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The starter's settings, under {@code lifespan.*}: the name of the Lifespan application and its
 * shutdown budget. Durations take Spring Boot's forms ({@code 20s}, {@code 500ms}, {@code PT20S}).
 *
 * <p>{@link #validate()} checks them when the application context starts, and a bad combination
 * fails the startup with one line that names the properties and their values, such as {@code
 * lifespan.shutdown.drain-delay=PT40S must be shorter than lifespan.shutdown.grace=PT5S}.
 */
@ConfigurationProperties("lifespan")
public class LifespanProperties {

  /** Whether the Lifespan auto-configuration is on. */
  private boolean enabled = true;

  /**
   * The Lifespan application's name, in its progress lines, task dumps and thread names. Empty:
   * spring.application.name, or "application".
   */
  private String name = "";

  /** The shutdown's budget and its phases. */
  private final Shutdown shutdown = new Shutdown();

  /** Creates the defaults. */
  public LifespanProperties() {}

  /** Whether the auto-configuration is on ({@code lifespan.enabled}, default true). */
  public boolean isEnabled() {
    return enabled;
  }

  /** Sets {@code lifespan.enabled}. */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /** {@code lifespan.name}; empty for the default. */
  public String getName() {
    return name;
  }

  /** Sets {@code lifespan.name}. */
  public void setName(String name) {
    this.name = name == null ? "" : name;
  }

  /** {@code lifespan.shutdown.*}. */
  public Shutdown getShutdown() {
    return shutdown;
  }

  /**
   * The shutdown: one budget, the grace period, counted from the first stop (Spring's context
   * close, on SIGTERM its shutdown hook) and shared by the drain delay, the web server's graceful
   * shutdown and the supervisors' must-finish work.
   */
  public static class Shutdown {
    /**
     * The whole budget of the shutdown, from the first stop: the drain delay, the web server's
     * graceful shutdown and the must-finish work all end within it. Size it to the pod's
     * terminationGracePeriodSeconds minus the teardown and kill timeouts.
     */
    private Duration grace = Duration.ofSeconds(20);

    /**
     * How long the web server keeps serving after the shutdown began, with readiness already
     * REFUSING_TRAFFIC, before its graceful shutdown starts: the time a load balancer takes to stop
     * sending requests. Part of the grace period, so shorter than it.
     */
    private Duration drainDelay = Duration.ZERO;

    /** After the grace period, how long the layers (the journal) have to tear down. */
    private Duration teardownTimeout = Duration.ofSeconds(5);

    /** How long cancelled work has to end before it is reported as a straggler. */
    private Duration killTimeout = Duration.ofSeconds(2);

    /** Creates the defaults. */
    public Shutdown() {}

    /** {@code lifespan.shutdown.grace}, default 20 s. */
    public Duration getGrace() {
      return grace;
    }

    /** Sets {@code lifespan.shutdown.grace}. */
    public void setGrace(Duration grace) {
      this.grace = grace;
    }

    /** {@code lifespan.shutdown.drain-delay}, default 0. */
    public Duration getDrainDelay() {
      return drainDelay;
    }

    /** Sets {@code lifespan.shutdown.drain-delay}. */
    public void setDrainDelay(Duration drainDelay) {
      this.drainDelay = drainDelay;
    }

    /** {@code lifespan.shutdown.teardown-timeout}, default 5 s. */
    public Duration getTeardownTimeout() {
      return teardownTimeout;
    }

    /** Sets {@code lifespan.shutdown.teardown-timeout}. */
    public void setTeardownTimeout(Duration teardownTimeout) {
      this.teardownTimeout = teardownTimeout;
    }

    /** {@code lifespan.shutdown.kill-timeout}, default 2 s. */
    public Duration getKillTimeout() {
      return killTimeout;
    }

    /** Sets {@code lifespan.shutdown.kill-timeout}. */
    public void setKillTimeout(Duration killTimeout) {
      this.killTimeout = killTimeout;
    }
  }

  /**
   * Checks the settings alone and together, and returns them.
   *
   * @throws InvalidPropertiesException with one line naming the property and its value: a missing
   *     or negative duration, or a drain delay that is not shorter than the grace period (the grace
   *     period includes it)
   */
  public LifespanProperties validate() {
    Shutdown s = shutdown;
    nonNegative("lifespan.shutdown.grace", s.grace);
    nonNegative("lifespan.shutdown.drain-delay", s.drainDelay);
    nonNegative("lifespan.shutdown.teardown-timeout", s.teardownTimeout);
    nonNegative("lifespan.shutdown.kill-timeout", s.killTimeout);
    if (!s.drainDelay.isZero() && s.drainDelay.compareTo(s.grace) >= 0) {
      throw new InvalidPropertiesException(
          "lifespan.shutdown.drain-delay="
              + text(s.drainDelay)
              + " must be shorter than lifespan.shutdown.grace="
              + text(s.grace)
              + ": the grace period is the whole shutdown budget and includes the drain delay");
    }
    return this;
  }

  private static void nonNegative(String property, Duration value) {
    if (value == null) throw new InvalidPropertiesException(property + " must be set");
    if (value.isNegative()) {
      throw new InvalidPropertiesException(property + "=" + text(value) + " must not be negative");
    }
  }

  /** A duration as a property would be written: {@code 5s}, {@code 1500ms}. */
  private static String text(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }

  /**
   * A bad {@code lifespan.*} setting, thrown by {@link #validate()} when the application context
   * starts: its message is the one line that names the property and its value. An application's
   * {@code main} can tell it apart from other startup failures (a bad option, not a failed
   * startup).
   */
  public static final class InvalidPropertiesException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    InvalidPropertiesException(String message) {
      super(Objects.requireNonNull(message));
    }
  }
}
