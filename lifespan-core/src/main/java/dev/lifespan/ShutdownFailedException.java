package dev.lifespan;

import java.util.Objects;

/**
 * An application's shutdown failed: a {@link Lifespan} layer threw during its teardown, or a
 * supervisor of the application failed. The cause is the first such failure; later ones are
 * suppressed exceptions. Reported only when nothing failed before the shutdown; otherwise these
 * failures are suppressed exceptions of that earlier one.
 */
public final class ShutdownFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String where;

  /** The shutdown of {@code application} failed in {@code where} (a layer or supervisor). */
  public ShutdownFailedException(String application, String where, Throwable cause) {
    super(
        "Application '" + application + "' failed to shut down cleanly: " + where + ": " + cause,
        Objects.requireNonNull(cause, "cause"));
    this.where = Objects.requireNonNull(where, "where");
    Objects.requireNonNull(application, "application");
  }

  /** Where the shutdown failed, such as {@code layer 'database'}. */
  public String where() {
    return where;
  }
}
