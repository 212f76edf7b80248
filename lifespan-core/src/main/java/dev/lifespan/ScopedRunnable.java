package dev.lifespan;

/**
 * A body that runs inside a scope it is handed as a capability, returns nothing, and may throw.
 * Checked exceptions of type {@code X} come out of the call that ran the body unchanged.
 *
 * @param <C> the capability the body receives: a {@link CancelScope} or a {@link TaskGroup}
 * @param <X> what the body may throw
 */
@FunctionalInterface
public interface ScopedRunnable<C, X extends Throwable> {
  /** Runs the body in {@code scope}. */
  void run(C scope) throws X;
}
