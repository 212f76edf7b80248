package dev.lifespan.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.test.ChildJvm;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The starter in a real Spring Boot process, stopped by a real SIGTERM: Spring's shutdown hook
 * closes the context, the drain keeps Tomcat serving with readiness 503, the must-finish task
 * finishes, the cancellable task that ignores its cancellation is reported as a straggler with its
 * stack trace (when the grace period and the kill timeout have passed), and the process exits
 * within the budget.
 */
class ProcessShutdownTest {
  /** grace + teardown timeout + kill timeout: the budget the process must exit within. */
  static final Duration BUDGET = Duration.ofSeconds(7 + 4 + 1);

  @Test
  void sigtermDrainsFinishesMustFinishWorkReportsStragglersAndExitsWithinTheBudget()
      throws Exception {
    try (ChildJvm child =
        ChildJvm.start(
            ChildMain.class,
            List.of("-Xmx256m"),
            List.of(
                "--server.port=0",
                "--spring.main.banner-mode=off",
                "--management.endpoint.health.probes.enabled=true",
                "--lifespan.name=child",
                "--lifespan.shutdown.drain-delay=4s",
                "--lifespan.shutdown.grace=7s",
                "--lifespan.shutdown.teardown-timeout=4s",
                "--lifespan.shutdown.kill-timeout=1s"))) {
      String ready = child.awaitLine("child ready on port ").text();
      int port = Integer.parseInt(ready.substring(ready.lastIndexOf(' ') + 1));
      assertEquals(200, Contexts.get(port, "/actuator/health/readiness").statusCode());

      long signalled = child.signal("TERM");
      child.awaitLine("drain delay 4000 ms");
      var readiness = Contexts.get(port, "/actuator/health/readiness");
      var hello = Contexts.get(port, "/hello");
      assertEquals(503, readiness.statusCode(), readiness.body());
      assertEquals(200, hello.statusCode(), hello.body());
      assertEquals("hello", hello.body());

      int code = child.awaitExit();
      Duration took = Duration.ofNanos(child.exitedNanos() - signalled);
      assertEquals(143, code, child.output());
      assertTrue(
          took.compareTo(BUDGET) < 0, "exited " + took + " after SIGTERM:\n" + child.output());
      child.assertOrder(
          "shutting down; readiness DRAINING",
          "drain delay 4000 ms",
          "must-finish task done",
          "cancellable task ignores its cancellation",
          "straggler 'lifespanCancellableTaskExecutor-",
          "stopped");
      child.assertNoLine("must-finish task interrupted");
    }
  }

  @Test
  void badPropertiesStopTheStartupWithOneLineNamingThem() throws Exception {
    try (ChildJvm child =
        ChildJvm.start(
            ChildMain.class,
            List.of("-Xmx256m"),
            List.of(
                "--server.port=0",
                "--spring.main.banner-mode=off",
                "--lifespan.shutdown.drain-delay=40s",
                "--lifespan.shutdown.grace=5s"))) {
      assertEquals(1, child.awaitExit(), child.output());
      String line =
          "lifespan.shutdown.drain-delay=40s must be shorter than lifespan.shutdown.grace=5s:"
              + " the grace period is the whole shutdown budget and includes the drain delay";
      assertEquals(
          1,
          child.lines().stream().filter(l -> l.text().strip().equals(line)).count(),
          "the line alone, once:\n" + child.output());
      int alone =
          child.lines().stream()
              .filter(l -> l.text().strip().equals(line))
              .findFirst()
              .orElseThrow()
              .index();
      assertTrue(
          child.line("Description:").index() < alone && alone < child.line("Action:").index(),
          "Spring Boot's failure report gives the line as the description:\n" + child.output());
      child.assertNoLine("child ready on port");
      child.assertNoLine("Tomcat initialized"); // stopped before the web server was made
    }
  }
}
