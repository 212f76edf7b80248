package dev.lifespan.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a bad {@code lifespan.*} setting into Spring Boot's startup report: its one line. */
final class LifespanFailureAnalyzer
    extends AbstractFailureAnalyzer<LifespanProperties.InvalidPropertiesException> {
  LifespanFailureAnalyzer() {}

  @Override
  protected FailureAnalysis analyze(
      Throwable root, LifespanProperties.InvalidPropertiesException cause) {
    return new FailureAnalysis(
        cause.getMessage(),
        "Fix the lifespan.* properties (application.properties, the environment or the command"
            + " line).",
        cause);
  }
}
