package dev.lifespan.springdemo;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The demo's own settings, under {@code demo.*}.
 *
 * @param mode {@code lifespan} (the Lifespan starter: confirmations in the journal, drain delay) or
 *     {@code plain-spring} (the baseline: Spring's graceful shutdown, confirmations by
 *     {@code @Async})
 * @param confirmMs the simulated delivery of a confirmation, {@code MIN} or {@code MIN-MAX}
 *     milliseconds
 * @param quiet whether to leave out one line per order (for load tests)
 * @param confirmationsAtOnce how many confirmations run at once in the journal, each holding a
 *     connection of the journal's pool for its delivery
 * @param lease how long a confirmation's claim in the journal lasts unless renewed: after a crash,
 *     the next start (or another instance on the same database) confirms the dead one's orders this
 *     long after it died
 * @param orderMs how long {@code POST /orders} works before it stores the order (simulated: a
 *     payment check, say), 0 by default; the measurements use it to have requests in flight
 */
@ConfigurationProperties("demo")
public record DemoProperties(
    String mode,
    String confirmMs,
    boolean quiet,
    int confirmationsAtOnce,
    Duration lease,
    int orderMs) {

  /** The mode with the Lifespan starter. */
  public static final String LIFESPAN = "lifespan";

  /** The baseline mode: plain Spring Boot. */
  public static final String PLAIN_SPRING = "plain-spring";

  private static final Pattern RANGE = Pattern.compile("(\\d{1,6})(?:-(\\d{1,6}))?");

  /**
   * Checks the values as they are bound.
   *
   * @throws IllegalArgumentException naming the property and its value
   */
  public DemoProperties {
    if (!LIFESPAN.equals(mode) && !PLAIN_SPRING.equals(mode)) {
      throw new IllegalArgumentException(
          "demo.mode must be " + LIFESPAN + " or " + PLAIN_SPRING + ", not '" + mode + "'");
    }
    range(confirmMs); // checks it
    if (confirmationsAtOnce < 1 || confirmationsAtOnce > 10_000) {
      throw new IllegalArgumentException(
          "demo.confirmations-at-once must be 1 to 10000, not " + confirmationsAtOnce);
    }
    if (orderMs < 0 || orderMs > 600_000) {
      throw new IllegalArgumentException("demo.order-ms must be 0 to 600000, not " + orderMs);
    }
    if (lease == null || lease.toMillis() < 30) {
      throw new IllegalArgumentException("demo.lease must be at least 30 ms, not " + lease);
    }
  }

  /** The shortest simulated delivery, in milliseconds. */
  public int confirmMinMillis() {
    return range(confirmMs)[0];
  }

  /** The longest simulated delivery, in milliseconds. */
  public int confirmMaxMillis() {
    return range(confirmMs)[1];
  }

  /**
   * {@code MIN} and {@code MAX} of {@code value} ({@code MIN} or {@code MIN-MAX}).
   *
   * @throws IllegalArgumentException naming the property and the value if it is not one
   */
  static int[] range(String value) {
    Matcher m = RANGE.matcher(value == null ? "" : value.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "demo.confirm-ms (--confirm-ms) must be MIN or MIN-MAX milliseconds, e.g. 1000-2000,"
              + " not '"
              + value
              + "'");
    }
    int min = Integer.parseInt(m.group(1));
    int max = m.group(2) == null ? min : Integer.parseInt(m.group(2));
    if (max < min) {
      throw new IllegalArgumentException(
          "demo.confirm-ms (--confirm-ms) MAX is less than MIN: '" + value + "'");
    }
    return new int[] {min, max};
  }
}
