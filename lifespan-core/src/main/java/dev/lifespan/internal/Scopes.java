package dev.lifespan.internal;

import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.ScopedCallable;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * The calling thread's scopes, for {@link dev.lifespan.CancelScope}'s static methods: opening a
 * scope nested in the thread's innermost one and configuring it before entry, the fail forms (a
 * deadline's absorbed cancellation becomes a {@link TimeoutException}), checkpoints, sleeping, and
 * the thread's innermost scope and earliest deadline.
 */
public final class Scopes {
  private Scopes() {}

  /**
   * A scope nested in the calling thread's innermost scope, not yet entered: called {@code name}
   * (null: generated), a shield if {@code shield}, with a deadline {@code timeout} after entry or
   * at {@code deadline} (null: none).
   */
  public static ScopeNode open(
      String name, boolean shield, boolean interruptFree, Duration timeout, Instant deadline) {
    ScopeNode s = nested(name, shield);
    if (interruptFree) s.interruptFree = true;
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
    ScopeNode s = nested(null, false);
    s.setTimeoutBeforeEntry(timeout);
    return s;
  }

  /**
   * Runs {@code body} in {@code scope}, not yet entered; a fail form: when the scope's deadline
   * cancelled the body and the scope absorbed that cancellation, throws the scope's timeout, with
   * the exceptions suppressed in the absorbed cancellation (what the cancelled calls threw, as
   * {@link dev.lifespan.CancelHooks} records them) suppressed in it. As {@link ScopeNode#runBody},
   * written out to keep the absorbed exception without allocating.
   */
  public static <T, X extends Throwable> T callOrFail(
      ScopeNode scope, ScopedCallable<? super ScopeNode, ? extends T, X> body)
      throws X, TimeoutException {
    scope.enter(scope.frameOfCaller());
    T result = null;
    Throwable thrown = null;
    try {
      result = body.call(scope);
    } catch (Throwable t) {
      thrown = t;
    }
    if (!scope.exit(thrown)) return result;
    if (scope.wasCancelledByDeadline()) {
      TimeoutException e = timeoutException(scope);
      for (Throwable s : thrown.getSuppressed()) e.addSuppressed(s);
      throw e;
    }
    return null;
  }

  /**
   * The exception a fail-form scope throws after its deadline cancelled its body. It has no cause:
   * the cancellation it replaces must not make it look like one (regression: with the absorbed
   * {@link dev.lifespan.CancelledException} as its cause, a shielded timeout inside a cancelled
   * task ended the task CANCELLED and the timeout was lost).
   */
  static TimeoutException timeoutException(ScopeNode scope) {
    return new TimeoutException("CancelScope '" + scope.name() + "' timed out");
  }

  // ---- the calling thread's scopes

  /** {@link CancelScope#checkpoint()} for the calling thread. */
  public static void checkpoint() {
    ThreadFrame f = ThreadFrame.currentOrNull();
    if (f == null) return;
    ScopeNode c = f.innermost();
    if (c == null) return;
    ScopeNode by = ScopeNode.cancelledFrom(c);
    if (by == null) return;
    f.reassertInterrupt();
    throw by.cancelledException();
  }

  /** {@link CancelScope#sleep}: a scope whose own deadline ends the wait. */
  public static void sleep(Duration duration) {
    ScopeNode s = nested(null, false);
    s.setTimeoutBeforeEntry(duration);
    checkpoint();
    s.runBody(
        x -> {
          while (true) {
            checkpoint();
            if (Thread.interrupted()) {
              checkpoint(); // a cancellation that arrived after the first check wins
              Thread.currentThread().interrupt();
              throw new CancelledException(
                  "Thread '"
                      + Thread.currentThread().getName()
                      + "' was interrupted while sleeping");
            }
            java.util.concurrent.locks.LockSupport.park(x);
          }
        });
  }

  /** The innermost open scope of the calling thread, or null. */
  public static ScopeNode current() {
    ThreadFrame f = ThreadFrame.currentOrNull();
    return f == null ? null : f.innermost();
  }

  /** The earliest deadline that applies to the calling thread, up to the nearest shield. */
  public static Optional<Instant> currentDeadline() {
    ScopeNode s = current();
    ScopeNode earliest = null;
    long best = 0;
    for (; s != null; s = s.parent) {
      var d = s.timer.deadlineOf(s);
      if (d.isPresent() && (earliest == null || d.getAsLong() - best < 0)) {
        earliest = s;
        best = d.getAsLong();
      }
      if (s.shield) break;
    }
    return earliest == null ? Optional.empty() : Optional.of(earliest.timer.toInstant(best));
  }

  /** A new scope that stands for {@code role}, nested in the calling thread's innermost scope. */
  static RoleScope nestedRole(String name, Object role) {
    ThreadFrame f = ThreadFrame.current();
    ScopeNode p = f.innermost();
    return new RoleScope(name, p, p != null ? p.timer : f.timer(), role);
  }

  /** A new scope nested in the calling thread's innermost scope. */
  public static ScopeNode nested(String name, boolean shield) {
    ThreadFrame f = ThreadFrame.current();
    ScopeNode p = f.innermost();
    return new ScopeNode(name, p, shield, p != null ? p.timer : f.timer());
  }
}
