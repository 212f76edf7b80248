package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the library logs through {@code System.Logger} "dev.lifespan", captured from the JDK's
 * default backend (java.util.logging).
 */
class LoggingTest {
  @RegisterExtension final LogCapture logs = new LogCapture();

  @Test
  void theDefaultHandlerLogsOneErrorWithTheTaskNameAndTheStackTrace() throws Exception {
    IOException boom = new IOException("boom");
    Supervisor.run(
        Supervisor.Options.named("logged"),
        sup -> {
          sup.spawn(
              "flaky",
              () -> {
                throw boom;
              });
          sup.awaitIdle();
        });
    LogRecord r = logs.single(Level.SEVERE);
    assertEquals("Task 'flaky' of supervisor 'logged' failed", r.getMessage());
    assertEquals(boom, r.getThrown());
  }

  @Test
  void aThrowingHandlerIsLoggedNotPropagated() throws Exception {
    IllegalStateException bug = new IllegalStateException("handler bug");
    Supervisor.run(
        Supervisor.Options.named("buggy")
            .withFailureHandler(
                (task, failure) -> {
                  throw bug;
                }),
        sup -> {
          sup.spawn(
              "flaky",
              () -> {
                throw new IOException("boom");
              });
          sup.awaitIdle();
        });
    LogRecord r = logs.single(Level.SEVERE);
    assertEquals(
        "The failure handler of supervisor 'buggy' threw while reporting task 'flaky'",
        r.getMessage());
    assertEquals(bug, r.getThrown());
  }

  @Test
  void eachRestartIsLoggedWithItsAttemptAndCause() throws Exception {
    java.util.concurrent.atomic.AtomicInteger runs =
        new java.util.concurrent.atomic.AtomicInteger();
    Supervisor.run(
        Supervisor.Options.named("restarts"),
        sup -> {
          sup.startService(
              ServiceSpec.of(
                      "feed",
                      () -> {
                        if (runs.incrementAndGet() < 3) throw new IOException("down " + runs.get());
                      })
                  .withBackoff(java.time.Duration.ZERO, 1, java.time.Duration.ZERO)
                  .withJitter(0));
          sup.awaitIdle();
        });
    List<String> messages = logs.messages();
    assertEquals(2, messages.size(), messages.toString());
    assertTrue(messages.get(0).contains("restarting (attempt 1)"), messages.get(0));
    assertTrue(messages.get(0).contains("down 1"), messages.get(0));
    assertTrue(messages.get(1).contains("restarting (attempt 2)"), messages.get(1));
    assertEquals(Level.WARNING, logs.records().get(0).getLevel());
  }
}
