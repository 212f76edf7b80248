package dev.lifespan.http;

/**
 * Thrown by a {@link Handler} to answer with a status and a short plain-text message, such as 400
 * for a malformed body or 404 for a missing resource. The body is the message, with control
 * characters and line breaks escaped as {@code \n} or {@code \u001b} (so that it stays one line),
 * and a newline ({@code text/plain; charset=utf-8}). Not logged: it is an answer, not a failure.
 */
public final class HttpException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;

  /**
   * An answer with {@code status} (400 to 599) and {@code message}, which the client sees.
   *
   * @throws IllegalArgumentException if {@code status} is not an error status
   */
  public HttpException(int status, String message) {
    super(java.util.Objects.requireNonNull(message, "message"), null, false, false);
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("HTTP error status must be 400..599: " + status);
    }
    this.status = status;
  }

  /** The status the client gets. */
  public int status() {
    return status;
  }
}
