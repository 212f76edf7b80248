package dev.lifespan.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A journal's options: their defaults, and one check of each setting for both ways to make them.
 */
class JournalOptionsTest {
  private static final Journal.Options A = Journal.Options.named("a");

  private static void assertInvalid(String message, Executable call) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, call).getMessage());
  }

  private static Journal.Options withTable(String table) {
    return new Journal.Options(
        "a",
        table,
        Optional.empty(),
        A.lease(),
        A.pollInterval(),
        1,
        Optional.empty(),
        Optional.empty());
  }

  @Test
  void defaults() {
    assertEquals(
        new Journal.Options(
            "a",
            "lifespan_journal",
            Optional.empty(),
            Duration.ofSeconds(30),
            Duration.ofSeconds(1),
            64,
            Optional.empty(),
            Optional.empty()),
        A);
    assertEquals(
        "Journal.Options[a, table=lifespan_journal, lease=PT30S, pollInterval=PT1S,"
            + " maxConcurrency=64]",
        A.toString());
  }

  @Test
  void badSettingsAreRefusedWithOneLineByTheWithMethodsAndTheConstructorAlike() {
    assertInvalid("Journal name is blank", () -> Journal.Options.named(" "));
    String table =
        "table is not an unquoted SQL identifier of at most 40 characters: '1x' (journal 'a')";
    assertInvalid(table, () -> A.withTable("1x"));
    assertInvalid(table, () -> withTable("1x"));
    assertInvalid(
        "owner must be 1 to 200 characters, not blank: ' ' (journal 'a')", () -> A.withOwner(" "));
    assertInvalid(
        "lease must be at least 3 ms: PT0.002S (journal 'a')",
        () -> A.withLease(Duration.ofMillis(2)));
    assertInvalid(
        "pollInterval must be positive: PT0S (journal 'a')",
        () -> A.withPollInterval(Duration.ZERO));
    assertInvalid("maxConcurrency < 1: 0 (journal 'a')", () -> A.withMaxConcurrency(0));
    assertInvalid(
        "retention must be positive: PT-1S (journal 'a')",
        () -> A.withRetention(Duration.ofSeconds(-1)));
    assertInvalid(
        "owner must be 1 to 200 characters, not blank: '' (journal 'a')",
        () ->
            new Journal.Options(
                "a",
                "t",
                Optional.of(""),
                A.lease(),
                A.pollInterval(),
                1,
                Optional.empty(),
                Optional.empty()));
    NullPointerException absent =
        assertThrows(
            NullPointerException.class,
            () ->
                new Journal.Options(
                    "a",
                    "t",
                    null,
                    A.lease(),
                    A.pollInterval(),
                    1,
                    Optional.empty(),
                    Optional.empty()));
    assertEquals("owner", absent.getMessage());
  }
}
