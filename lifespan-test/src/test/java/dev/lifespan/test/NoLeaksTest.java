package dev.lifespan.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * {@link NoLeaks @NoLeaks} registers the leak-checking extension and configures it; the extension
 * itself is tested in the module {@code dev.lifespan.leakcheck}. The fixtures run only through the
 * JUnit test kit, without autodetection, so that the annotation alone registers the extension.
 */
class NoLeaksTest {
  private static final String FIXTURES = "dev.lifespan.test.fixtures";

  /** Ends the fixtures' blocked threads; replaced before each test, counted down after it. */
  static volatile CountDownLatch release;

  @BeforeEach
  void newRelease() {
    release = new CountDownLatch(1);
  }

  @AfterEach
  void endFixtureThreads() {
    release.countDown();
  }

  @Test
  void annotatedTestThatLeaksFailsAfterItsGracePeriod() {
    List<Event> failed = run(Leaks.class).failed().list();

    assertEquals(1, failed.size(), failed::toString);
    String report =
        failed
            .getFirst()
            .getRequiredPayload(TestExecutionResult.class)
            .getThrowable()
            .orElseThrow()
            .getMessage();
    assertTrue(
        report.contains("Test leak() leaked 1 thread(s) still running 30 ms after it ended:"),
        report);
    assertTrue(report.contains("thread 'leaky' (virtual, #"), report);
  }

  @Test
  void allowedThreadIsNotALeak() {
    run(LeaksAllowedThread.class).assertStatistics(stats -> stats.started(1).succeeded(1));
  }

  // ---- fixtures: run only through run(), never by discovery ----

  @ExtendWith(OnlyInTestKit.class)
  @NoLeaks(graceMillis = 5_000)
  static class Leaks {
    @Test
    @NoLeaks(graceMillis = 30)
    void leak() {
      Thread.ofVirtual().name("leaky").start(blockUntilReleased());
    }
  }

  @ExtendWith(OnlyInTestKit.class)
  @NoLeaks(graceMillis = 0, allow = "allowed-.*")
  static class LeaksAllowedThread {
    @Test
    void leak() {
      Thread.ofVirtual().name("allowed-1").start(blockUntilReleased());
    }
  }

  static final class OnlyInTestKit implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      return context.getConfigurationParameter(FIXTURES).isPresent()
          ? ConditionEvaluationResult.enabled("run by NoLeaksTest")
          : ConditionEvaluationResult.disabled("fixture of NoLeaksTest");
    }
  }

  private static Events run(Class<?> fixture) {
    return EngineTestKit.engine("junit-jupiter")
        .configurationParameter(FIXTURES, "true")
        .selectors(selectClass(fixture))
        .execute()
        .testEvents();
  }

  private static Runnable blockUntilReleased() {
    CountDownLatch released = release;
    return () -> {
      try {
        released.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
  }
}
