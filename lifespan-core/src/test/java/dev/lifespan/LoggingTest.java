package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the library logs through {@code System.Logger} "dev.lifespan", captured from the JDK's
 * default backend (java.util.logging).
 */
class LoggingTest {
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();
  private final Logger jul = Logger.getLogger("dev.lifespan");
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          records.add(r);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void capture() {
    jul.addHandler(capture);
  }

  @AfterEach
  void release() {
    jul.removeHandler(capture);
  }

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
    assertEquals(1, records.size(), records.toString());
    LogRecord r = records.get(0);
    assertEquals(Level.SEVERE, r.getLevel());
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
    assertEquals(1, records.size(), records.toString());
    assertTrue(records.get(0).getMessage().contains("failure handler of supervisor 'buggy'"));
    assertEquals(bug, records.get(0).getThrown());
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
    List<String> messages = records.stream().map(LogRecord::getMessage).toList();
    assertEquals(2, messages.size(), messages.toString());
    assertTrue(messages.get(0).contains("restarting (attempt 1)"), messages.get(0));
    assertTrue(messages.get(0).contains("down 1"), messages.get(0));
    assertTrue(messages.get(1).contains("restarting (attempt 2)"), messages.get(1));
    assertEquals(Level.WARNING, records.get(0).getLevel());
  }
}
