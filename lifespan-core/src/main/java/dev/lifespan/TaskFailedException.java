package dev.lifespan;

import java.util.Objects;

/**
 * A task failed: thrown by {@link Task#join()} and by a {@link TaskGroup} whose child failed. The
 * message names the task; the {@linkplain #getCause() cause} is exactly what the task threw, and
 * further failures of the same group are attached as {@linkplain #getSuppressed() suppressed}
 * exceptions, so nothing is lost.
 */
public final class TaskFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String taskName;

  /** Creates the exception for the task {@code taskName} that threw {@code cause}. */
  public TaskFailedException(String taskName, Throwable cause) {
    super(
        "Task '" + Objects.requireNonNull(taskName, "taskName") + "' failed: " + cause,
        Objects.requireNonNull(cause, "cause"));
    this.taskName = taskName;
  }

  /** The name of the task that failed. */
  public String taskName() {
    return taskName;
  }
}
