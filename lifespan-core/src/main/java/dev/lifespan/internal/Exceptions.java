package dev.lifespan.internal;

import dev.lifespan.CancelledException;

/** Rethrowing without wrapping, and telling a cancellation from a failure. */
public final class Exceptions {
  private Exceptions() {}

  /** Throws {@code t} unchanged, checked or not; declared to return so callers can write throw. */
  @SuppressWarnings("unchecked")
  static <X extends Throwable> RuntimeException sneaky(Throwable t) throws X {
    throw (X) t;
  }

  /**
   * Whether {@code t} is how cancellation shows itself: our exception or an interruption, itself or
   * as a cause (an I/O or SQL exception caused by an interrupt). A {@link
   * java.util.concurrent.TimeoutException} anywhere on the way ends the search: a timeout is a
   * failure, whatever its causes say.
   */
  public static boolean isCancellation(Throwable t) {
    for (int depth = 0; t != null && depth < 8; t = t.getCause(), depth++) {
      if (t instanceof java.util.concurrent.TimeoutException) return false;
      if (t instanceof CancelledException
          || t instanceof InterruptedException
          || t instanceof java.nio.channels.ClosedByInterruptException
          || (t instanceof java.io.InterruptedIOException
              && !(t instanceof java.net.SocketTimeoutException))) {
        return true;
      }
    }
    return false;
  }
}
