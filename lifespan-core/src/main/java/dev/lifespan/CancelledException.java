package dev.lifespan;

import java.util.Objects;
import java.util.concurrent.CancellationException;

/**
 * Thrown by library checkpoints while the calling thread's innermost scope is cancelled: {@link
 * CancelScope#checkpoint()}, {@link Task#join()}, task group joins, and scope exits. It names the
 * scope whose cancellation it reports and why that scope was cancelled.
 *
 * <p>Let it propagate. The cancelled scope that is outermost among those the thread can see catches
 * it at its boundary and returns normally; catching it anywhere else does not end the cancellation:
 * the next checkpoint throws it again, and the thread's interrupt flag is set again so blocking JDK
 * calls keep failing fast. Cleanup that must block while cancelled belongs in a {@linkplain
 * CancelScope.Options#shielded() shielded} scope.
 *
 * <p>Because it extends {@link CancellationException}, code written against {@code Future}
 * recognises it as cancellation.
 */
public final class CancelledException extends CancellationException {
  private static final long serialVersionUID = 1L;

  private final String scopeName;

  /** Creates the exception for the scope {@code scopeName}, cancelled because of {@code reason}. */
  public CancelledException(String scopeName, String reason) {
    super(
        "CancelScope '"
            + Objects.requireNonNull(scopeName, "scopeName")
            + "' was cancelled: "
            + Objects.requireNonNull(reason, "reason"));
    this.scopeName = scopeName;
  }

  /**
   * Creates the exception for a thread that was interrupted by code outside the library while it
   * waited in a library call; {@link #scopeName()} is then null and the thread's interrupt flag
   * stays set.
   */
  public CancelledException(String message) {
    super(Objects.requireNonNull(message, "message"));
    this.scopeName = null;
  }

  /**
   * The name of the cancelled scope this exception reports, or null if it reports an interrupt that
   * no scope caused.
   */
  public String scopeName() {
    return scopeName;
  }
}
