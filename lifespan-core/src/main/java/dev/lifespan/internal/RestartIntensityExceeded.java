package dev.lifespan.internal;

import java.util.Objects;

/**
 * A service ended more often within its intensity period than its spec allows restarts; the
 * supervisor escalates. The message names the service, the count and the period; the cause is the
 * failure that ended the body last, or null if the body last returned normally.
 */
public final class RestartIntensityExceeded extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String serviceName;

  /** Creates the exception for the service {@code serviceName}, with the given message. */
  public RestartIntensityExceeded(String serviceName, String message, Throwable lastFailure) {
    super(Objects.requireNonNull(message, "message"), lastFailure);
    this.serviceName = Objects.requireNonNull(serviceName, "serviceName");
  }

  /** The name of the service that was restarted too often. */
  public String serviceName() {
    return serviceName;
  }
}
