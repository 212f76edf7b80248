package dev.lifespan;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What a supervisor's {@link Supervisor#shutdown shutdown} found: of the tasks running when it
 * began, how many completed, were cancelled or failed, and the <em>stragglers</em> still running
 * when it gave up waiting, with their names, ages and stack traces.
 *
 * @param supervisor the supervisor's name
 * @param completed tasks that ended normally during the shutdown
 * @param cancelled tasks that ended by cancellation
 * @param failed tasks that ended with a failure (reported to the failure handler or their joiner)
 * @param abandoned the names of the must-finish tasks still running when the grace period ended,
 *     which the shutdown then cancelled: work that was promised and not done (they are counted in
 *     {@code cancelled}, {@code failed} or {@code stragglers} by how they then ended), oldest
 *     first; then those of supervisors nested inside them, cancelled with them
 * @param stragglers tasks that were still running when the shutdown returned
 * @param took how long the shutdown took
 */
public record ShutdownReport(
    String supervisor,
    int completed,
    int cancelled,
    int failed,
    List<String> abandoned,
    List<Straggler> stragglers,
    Duration took) {

  /** Validates and copies. */
  public ShutdownReport {
    Objects.requireNonNull(supervisor, "supervisor");
    abandoned = List.copyOf(abandoned);
    stragglers = List.copyOf(stragglers);
    Objects.requireNonNull(took, "took");
  }

  /**
   * A task that did not end in time: it ignored cancellation, or its must-finish work outlasted the
   * grace period and the kill timeout.
   *
   * @param name the task's name
   * @param age how long it had been running when the report was made
   * @param mustFinish whether it was a must-finish task
   * @param stackTrace where its thread was when the report was made
   */
  public record Straggler(
      String name, Duration age, boolean mustFinish, List<StackTraceElement> stackTrace) {
    /** Validates and copies. */
    public Straggler {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(age, "age");
      stackTrace = List.copyOf(stackTrace);
    }
  }

  /** Whether every task ended and no must-finish task was abandoned. */
  public boolean clean() {
    return stragglers.isEmpty() && abandoned.isEmpty();
  }

  /** A readable multi-line summary, with every straggler's stack. */
  @Override
  public String toString() {
    var sb = new StringBuilder();
    sb.append("Supervisor '")
        .append(supervisor)
        .append("' shut down in ")
        .append(took.toMillis())
        .append(" ms: ")
        .append(completed)
        .append(" completed, ")
        .append(cancelled)
        .append(" cancelled, ")
        .append(failed)
        .append(" failed, ")
        .append(stragglers.size())
        .append(" still running");
    if (!abandoned.isEmpty()) {
      sb.append("; ").append(abandoned.size()).append(" must-finish abandoned at the grace's end");
    }
    for (Straggler s : stragglers) {
      sb.append("\n  straggler '")
          .append(s.name())
          .append("'")
          .append(s.mustFinish() ? " (must-finish)" : "")
          .append(", running for ")
          .append(s.age().toMillis())
          .append(" ms");
      for (StackTraceElement e : s.stackTrace()) sb.append("\n    at ").append(e);
    }
    return sb.toString();
  }
}
