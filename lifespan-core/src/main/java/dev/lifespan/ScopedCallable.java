package dev.lifespan;

/**
 * A body that runs inside a scope it is handed as a capability, computes a value, and may throw.
 * Checked exceptions of type {@code X} come out of the call that ran the body unchanged.
 *
 * @param <C> the capability the body receives: a {@link CancelScope} or a {@link TaskGroup}
 * @param <T> the result
 * @param <X> what the body may throw
 */
@FunctionalInterface
public interface ScopedCallable<C, T, X extends Throwable> {
  /** Runs the body in {@code scope}. */
  T call(C scope) throws X;
}
