package dev.lifespan.internal;

import dev.lifespan.ScopedCallable;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeoutException;

/**
 * How {@link dev.lifespan.CancelScope}'s static methods open a scope and run a fail form: the scope
 * is created nested in the calling thread's innermost scope and configured before entry; a fail
 * form turns the deadline's absorbed cancellation into a {@link TimeoutException}.
 */
public final class Scopes {
  private Scopes() {}

  /**
   * A scope nested in the calling thread's innermost scope, not yet entered: called {@code name}
   * (null: generated), a shield if {@code shield}, with a deadline {@code timeout} after entry or
   * at {@code deadline} (null: none).
   */
  public static ScopeNode open(String name, boolean shield, Duration timeout, Instant deadline) {
    ScopeNode s = ScopeNode.nested(name, shield);
    if (timeout != null) s.setTimeoutBeforeEntry(timeout);
    if (deadline != null) s.setDeadlineBeforeEntry(deadline);
    return s;
  }

  /**
   * An unnamed scope, not yet entered, whose deadline is {@code timeout} after entry.
   *
   * @throws NullPointerException if {@code timeout} is null
   * @throws IllegalArgumentException if {@code timeout} is negative
   */
  public static ScopeNode withTimeoutAtEntry(Duration timeout) {
    ScopeNode s = ScopeNode.nested(null, false);
    s.setTimeoutBeforeEntry(timeout);
    return s;
  }

  /**
   * Runs {@code body} in {@code scope}, not yet entered; a fail form: when the scope's deadline
   * cancelled the body and the scope absorbed that cancellation, throws the scope's timeout.
   */
  public static <T, X extends Throwable> T callOrFail(
      ScopeNode scope, ScopedCallable<? super ScopeNode, ? extends T, X> body)
      throws X, TimeoutException {
    T result = scope.runBody(body);
    if (scope.isCancelledCaught() && scope.wasCancelledByDeadline()) {
      throw scope.timeoutException();
    }
    return result;
  }
}
