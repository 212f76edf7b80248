package dev.lifespan.spring;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which of the application's progress lines the starter logs at WARN. */
class ProgressLevelTest {

  @Test
  void aCleanSupervisorReportIsInfo() {
    assertFalse(
        LifespanAutoConfiguration.warns(
            "Supervisor 'orders/spring' shut down in 12 ms: 4 completed, 1 cancelled, 0 failed,"
                + " 0 still running"));
    assertFalse(LifespanAutoConfiguration.warns("[ 0.10 s] orders: ready"));
  }

  @Test
  void failuresStragglersAndAbandonedWorkAreWarnings() {
    assertTrue(
        LifespanAutoConfiguration.warns(
            "Supervisor 'orders/spring' shut down in 12 ms: 4 completed, 0 cancelled, 10 failed,"
                + " 0 still running"));
    assertTrue(
        LifespanAutoConfiguration.warns(
            "Supervisor 'orders/spring' shut down in 9000 ms: 0 completed, 0 cancelled, 0 failed,"
                + " 1 still running\n  straggler 'stubborn', running for 9000 ms"));
    assertTrue(LifespanAutoConfiguration.warns("startup failed in layer 'journal': no database"));
    assertTrue(LifespanAutoConfiguration.warns("supervisor 'x' failed; stopping the application"));
    assertTrue(LifespanAutoConfiguration.warns("1 must-finish task abandoned: 'confirm'"));
  }
}
