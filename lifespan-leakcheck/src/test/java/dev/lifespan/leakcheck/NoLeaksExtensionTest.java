package dev.lifespan.leakcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.lifespan.leakcheck.internal.LeakCheck;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * Runs fixture test classes with the JUnit test kit and checks their outcomes. Threads the fixtures
 * leave blocked wait for {@link #release}, which every test counts down when it ends; this class's
 * own tests are leak-checked (autodetection is on for this module), so that cleanup is verified.
 */
class NoLeaksExtensionTest {
  private static final String FIXTURES = "dev.lifespan.leakcheck.fixtures";
  private static final String AUTODETECT = "junit.jupiter.extensions.autodetection.enabled";

  /** Ends the fixtures' blocked threads; replaced before each test, counted down after it. */
  static volatile CountDownLatch release;

  /** Set by {@link ThreadEndsDuringGracePeriod}'s thread once it saw the extension waiting. */
  static volatile boolean sawGraceWait;

  @BeforeEach
  void newRelease() {
    release = new CountDownLatch(1);
    sawGraceWait = false;
  }

  @AfterEach
  void endFixtureThreads() {
    release.countDown();
  }

  @Test
  void leakedVirtualThreadFailsTestNamingItWithItsStack() {
    String report = failureOf(LeaksVirtualThread.class, Map.of()).getMessage();

    assertContains(report, "Test leak() leaked 1 thread(s) still running 50 ms after it ended:\n");
    assertContains(report, "\n  thread 'leaky-virtual' (virtual, #");
    assertContains(report, "\n    at java.base/java.util.concurrent.CountDownLatch.await(");
    assertContains(report, "NoLeaksExtensionTest.lambda$blockUntilReleased$");
  }

  @Test
  void leakedPlatformThreadFailsTestNamingItWithItsStack() {
    String report = failureOf(LeaksPlatformThread.class, Map.of()).getMessage();

    assertContains(report, "Test leak() leaked 1 thread(s) still running 50 ms after it ended:\n");
    assertContains(report, "\n  thread 'leaky-platform' (platform, #");
    assertContains(report, "\n    at java.base/java.util.concurrent.CountDownLatch.await(");
    assertContains(report, "NoLeaksExtensionTest.lambda$blockUntilReleased$");
  }

  @Test
  void threadEndingWithinGracePeriodIsNotALeak() {
    assertPasses(ThreadEndsDuringGracePeriod.class, Map.of());
    assertTrue(sawGraceWait, "the thread should have ended while the extension waited for it");
  }

  @Test
  void threadWithAllowedNameIsNotALeak() {
    assertPasses(LeaksAllowedThread.class, Map.of());
  }

  @Test
  void cleanTestPasses() {
    assertPasses(Clean.class, Map.of(AUTODETECT, "true"));
  }

  @Test
  void threadsJoinedBeforeTestReturnsAreNotLeaks() {
    assertPasses(JoinsItsThreads.class, Map.of());
  }

  @Test
  void threadsStoppedInAfterEachAreNotLeaks() {
    assertPasses(StopsThreadInAfterEach.class, Map.of());
  }

  @Test
  void methodGracePeriodOverridesClassGracePeriod() {
    String report = failureOf(MethodOverridesGrace.class, Map.of()).getMessage();

    assertContains(report, "still running 30 ms after it ended");
  }

  @Test
  void leakReportIsSuppressedByFailureOfTestItself() {
    Throwable failure = failureOf(FailsAndLeaks.class, Map.of());

    assertEquals("boom", failure.getMessage());
    assertEquals(1, failure.getSuppressed().length);
    assertContains(failure.getSuppressed()[0].getMessage(), "thread 'leaky-virtual'");
  }

  @Test
  void withoutRegistrationNothingIsChecked() {
    assertPasses(LeaksWithoutAnnotation.class, Map.of());
  }

  @Test
  void autodetectedExtensionUsesConfiguredGracePeriod() {
    var config = Map.of(AUTODETECT, "true", NoLeaksExtension.GRACE_MILLIS_PROPERTY, "20");
    String report = failureOf(LeaksWithoutAnnotation.class, config).getMessage();

    assertContains(report, "Test leak() leaked 1 thread(s) still running 20 ms after it ended:\n");
  }

  @Test
  void autodetectedExtensionUsesConfiguredAllowPattern() {
    var config = Map.of(AUTODETECT, "true", NoLeaksExtension.ALLOW_PROPERTY, "leaky-.*");
    assertPasses(LeaksWithoutAnnotation.class, config);
  }

  @Test
  void extensionRegisteredThreeTimesChecksOnce() {
    Throwable failure = failureOf(RegistersExtensionThrice.class, Map.of(AUTODETECT, "true"));

    assertEquals(0, failure.getSuppressed().length, () -> Arrays.toString(failure.getSuppressed()));
  }

  @Test
  void malformedGracePeriodIsConfigurationError() {
    var config = Map.of(AUTODETECT, "true", NoLeaksExtension.GRACE_MILLIS_PROPERTY, "soon");
    Throwable failure = failureOf(Clean.class, config);

    assertInstanceOf(ExtensionConfigurationException.class, failure);
    assertContains(failure.getMessage(), "lifespan.leakcheck.graceMillis");
  }

  @Test
  void composedAnnotationCarriesSettings() {
    assertPasses(LeaksThreadAllowedByComposedAnnotation.class, Map.of());
  }

  @Test
  void settingsAreInheritedFromSuperclass() {
    String report = failureOf(InheritsGrace.class, Map.of()).getMessage();

    assertContains(report, "still running 40 ms after it ended");
  }

  @Test
  void settingsElementOfWrongTypeIsConfigurationError() {
    Throwable failure = failureOf(HasWrongGraceType.class, Map.of());

    assertInstanceOf(ExtensionConfigurationException.class, failure);
    assertContains(failure.getMessage(), "graceMillis() should be of type long, not int");
  }

  // ---- fixtures: run only through run(), never by discovery (see Fixture) ----

  /**
   * Returns once {@code t} waits in {@code blockUntilReleased}, so that the leak report always
   * shows that frame (on a busy machine a thread may not have run at all 50 ms later).
   */
  static void parked(Thread t) {
    while (t.getState() != Thread.State.WAITING) Thread.onSpinWait();
  }

  @Fixture
  @NoLeaks(graceMillis = 50)
  static class LeaksVirtualThread {
    @Test
    void leak() {
      parked(Thread.ofVirtual().name("leaky-virtual").start(blockUntilReleased()));
    }
  }

  @Fixture
  @NoLeaks(graceMillis = 50)
  static class LeaksPlatformThread {
    @Test
    void leak() {
      parked(Thread.ofPlatform().daemon().name("leaky-platform").start(blockUntilReleased()));
    }
  }

  @Fixture
  @NoLeaks(graceMillis = 10_000)
  static class ThreadEndsDuringGracePeriod {
    @Test
    void startThreadThatEndsLate() {
      Thread tester = Thread.currentThread();
      CountDownLatch released = release;
      Thread.ofVirtual()
          .name("straggler")
          .start(
              () -> {
                while (released.getCount() > 0) {
                  if (isInGraceWait(tester)) {
                    sawGraceWait = true;
                    return;
                  }
                  Thread.onSpinWait();
                }
              });
    }

    private static boolean isInGraceWait(Thread tester) {
      return tester.getState() == Thread.State.TIMED_WAITING
          && Arrays.stream(tester.getStackTrace())
              .anyMatch(f -> f.getClassName().equals(LeakCheck.class.getName()));
    }
  }

  @Fixture
  @NoLeaks(graceMillis = 0, allow = "allowed-.*")
  static class LeaksAllowedThread {
    @Test
    void leak() {
      Thread.ofVirtual().name("allowed-1").start(blockUntilReleased());
    }
  }

  @Fixture
  @NoLeaks(graceMillis = 0)
  static class JoinsItsThreads {
    @Test
    void startAndJoin() throws InterruptedException {
      for (Thread t :
          List.of(Thread.ofVirtual().start(() -> {}), Thread.ofPlatform().start(() -> {}))) {
        t.join();
      }
    }
  }

  @Fixture
  @NoLeaks(graceMillis = 0)
  static class StopsThreadInAfterEach {
    private final CountDownLatch stop = new CountDownLatch(1);
    private Thread worker;

    @BeforeEach
    void startWorker() {
      worker = Thread.ofVirtual().name("worker").start(() -> awaitQuietly(stop));
    }

    @Test
    void useWorker() {
      assertTrue(worker.isAlive());
    }

    @AfterEach
    void stopWorker() throws InterruptedException {
      stop.countDown();
      worker.join();
    }
  }

  @Fixture
  @NoLeaks(graceMillis = 5_000)
  static class MethodOverridesGrace {
    @Test
    @NoLeaks(graceMillis = 30)
    void leak() {
      parked(Thread.ofVirtual().name("leaky-virtual").start(blockUntilReleased()));
    }
  }

  @Fixture
  @NoLeaks(graceMillis = 0)
  static class FailsAndLeaks {
    @Test
    void leakAndFail() {
      Thread.ofVirtual().name("leaky-virtual").start(blockUntilReleased());
      throw new AssertionError("boom");
    }
  }

  @Fixture
  @NoLeaks(graceMillis = 0) // JUnit drops this registration, the same type as the autodetected one
  static class RegistersExtensionThrice {
    @RegisterExtension static final NoLeaksExtension another = new NoLeaksExtension();

    @Test
    void leak() {
      parked(Thread.ofVirtual().name("leaky-virtual").start(blockUntilReleased()));
    }
  }

  @Fixture
  static class Clean {
    @Test
    void test() {
      assertEquals(4, 2 + 2);
    }
  }

  @Fixture
  static class LeaksWithoutAnnotation {
    @Test
    void leak() {
      parked(Thread.ofVirtual().name("leaky-virtual").start(blockUntilReleased()));
    }
  }

  @Retention(RetentionPolicy.RUNTIME)
  @NoLeaks(graceMillis = 0, allow = "composed-.*")
  @interface AllowsComposed {}

  @Fixture
  @AllowsComposed
  static class LeaksThreadAllowedByComposedAnnotation {
    @Test
    void leak() {
      Thread.ofVirtual().name("composed-1").start(blockUntilReleased());
    }
  }

  @NoLeaks(graceMillis = 40)
  abstract static class Grace40 {}

  @Fixture
  static class InheritsGrace extends Grace40 {
    @Test
    void leak() {
      parked(Thread.ofVirtual().name("leaky-virtual").start(blockUntilReleased()));
    }
  }

  @Retention(RetentionPolicy.RUNTIME)
  @ExtendWith(NoLeaksExtension.class)
  @interface WrongGraceType {
    int graceMillis();
  }

  @Fixture
  @WrongGraceType(graceMillis = 5)
  static class HasWrongGraceType {
    @Test
    void test() {
      assertEquals(4, 2 + 2);
    }
  }

  /**
   * A settings annotation shaped like {@code dev.lifespan.test.NoLeaks}, which this module cannot
   * depend on: the fixtures are configured with it.
   */
  @Retention(RetentionPolicy.RUNTIME)
  @Inherited
  @Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
  @ExtendWith(NoLeaksExtension.class)
  @interface NoLeaks {
    long graceMillis() default -1;

    String[] allow() default {};
  }

  /**
   * Marks a fixture: a test class that runs only inside the test kit runs of this class, not when
   * discovered by an IDE or build (surefire already skips nested classes).
   */
  @Retention(RetentionPolicy.RUNTIME)
  @ExtendWith(OnlyInTestKit.class)
  @interface Fixture {}

  static final class OnlyInTestKit implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      return context.getConfigurationParameter(FIXTURES).isPresent()
          ? ConditionEvaluationResult.enabled("run by NoLeaksExtensionTest")
          : ConditionEvaluationResult.disabled("fixture of NoLeaksExtensionTest");
    }
  }

  // ---- helpers ----

  private static Runnable blockUntilReleased() {
    CountDownLatch released = release;
    return () -> awaitQuietly(released);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static EngineExecutionResults run(Class<?> fixture, Map<String, String> config) {
    return EngineTestKit.engine("junit-jupiter")
        .configurationParameter(FIXTURES, "true")
        .configurationParameters(config)
        .selectors(selectClass(fixture))
        .execute();
  }

  private static Throwable failureOf(Class<?> fixture, Map<String, String> config) {
    List<Event> failed = run(fixture, config).testEvents().failed().list();
    assertEquals(1, failed.size(), () -> fixture.getSimpleName() + " should fail once: " + failed);
    return throwableOf(failed.getFirst());
  }

  private static void assertPasses(Class<?> fixture, Map<String, String> config) {
    var events = run(fixture, config).testEvents();
    for (Event e : events.failed().list()) {
      throw new AssertionError(fixture.getSimpleName() + " should pass", throwableOf(e));
    }
    events.assertStatistics(stats -> stats.started(1).succeeded(1));
  }

  private static Throwable throwableOf(Event event) {
    return event.getRequiredPayload(TestExecutionResult.class).getThrowable().orElseThrow();
  }

  private static void assertContains(String text, String expected) {
    assertTrue(text.contains(expected), () -> "Expected <" + expected + "> in:\n" + text);
  }
}
