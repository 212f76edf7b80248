package dev.lifespan.springdemo;

import java.util.concurrent.atomic.AtomicReference;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalysisReporter;

/**
 * Keeps Spring Boot's analysis of a startup failure ("Port 8080 was already in use.") for the one
 * line {@link OrdersSpringApplication#main} prints, instead of Spring Boot's block of lines.
 */
public final class OneLineFailureReporter implements FailureAnalysisReporter {
  private static final AtomicReference<String> LAST = new AtomicReference<>();

  /** Creates the reporter; Spring Boot does, from {@code META-INF/spring.factories}. */
  public OneLineFailureReporter() {}

  @Override
  public void report(FailureAnalysis analysis) {
    String d = analysis.getDescription();
    LAST.set(d == null ? null : String.join(" ", d.strip().lines().map(String::strip).toList()));
  }

  /** The description of the last analysed failure, on one line, or null; clears it. */
  static String take() {
    return LAST.getAndSet(null);
  }
}
