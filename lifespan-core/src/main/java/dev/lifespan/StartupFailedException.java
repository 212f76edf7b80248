package dev.lifespan;

import java.util.Objects;

/**
 * An application did not start: a {@link Lifespan} layer failed before calling {@code proceed()}.
 * The cause is what the layer threw; teardown failures of the layers started before it are
 * suppressed exceptions.
 */
public final class StartupFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String layer;

  /** The startup of {@code application} failed in {@code layer} with {@code cause}. */
  public StartupFailedException(String application, String layer, Throwable cause) {
    super(
        "Application '" + application + "' failed to start: layer '" + layer + "' failed: " + cause,
        Objects.requireNonNull(cause, "cause"));
    this.layer = Objects.requireNonNull(layer, "layer");
    Objects.requireNonNull(application, "application");
  }

  /** The name of the layer that failed. */
  public String layer() {
    return layer;
  }
}
