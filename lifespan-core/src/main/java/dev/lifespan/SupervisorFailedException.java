package dev.lifespan;

import java.util.Objects;

/**
 * A supervisor gave up: a child exceeded its restart intensity and the supervisor escalated. Thrown
 * to the supervisor's owner by {@link Supervisor#run}, {@link Supervisor#close()} and {@link
 * Supervisor#shutdown}; the {@linkplain #getCause() cause} is the last failure of the child.
 */
public final class SupervisorFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String supervisorName;

  /** Creates the exception for the supervisor {@code supervisorName}. */
  public SupervisorFailedException(String supervisorName, String message, Throwable cause) {
    super(
        "Supervisor '"
            + Objects.requireNonNull(supervisorName, "supervisorName")
            + "' failed: "
            + Objects.requireNonNull(message, "message"),
        cause);
    this.supervisorName = supervisorName;
  }

  /** The name of the supervisor that failed. */
  public String supervisorName() {
    return supervisorName;
  }
}
