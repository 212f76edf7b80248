package dev.lifespan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The progress lines' seconds, formatted without {@code String.format}. */
class SecondsTest {
  @Test
  void secondsHaveOneDecimalRoundedHalfUp() {
    assertEquals("0.0 s", Progress.seconds(0));
    assertEquals("0.0 s", Progress.seconds(49_999_999));
    assertEquals("0.1 s", Progress.seconds(50_000_000));
    assertEquals("1.3 s", Progress.seconds(1_250_000_000));
    assertEquals("20.0 s", Progress.seconds(20_000_000_000L));
    assertEquals("3600.0 s", Progress.seconds(3_600_000_000_000L));
    assertEquals("-1.5 s", Progress.seconds(-1_500_000_000));
  }
}
