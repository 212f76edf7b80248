package dev.lifespan.internal;

import dev.lifespan.CancelScope;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;

/**
 * A cancellation hook ({@link CancelScope#onCancel}): an action that runs once when cancellation
 * reaches its scope, and the registration that unregisters it.
 *
 * <p>A scope keeps its hooks in a copy-on-write array ({@link ScopeNode#hooks}), changed by
 * compare-and-set, without a lock. A hook starts at most once: firing, closing and the scope's exit
 * race for its state, and only the first wins. Registering adds the hook and then looks whether the
 * scope is cancelled or closed; cancelling marks the scope and then reads the hooks (the walk of
 * {@link ScopeNode#deliver}); so a hook registered while its scope is being cancelled is fired by
 * one of the two, and by the race for its state only once.
 */
final class CancelHook implements CancelScope.Registration {
  private static final System.Logger LOG = System.getLogger("dev.lifespan");
  private static final int ARMED = 0, FIRED = 1, CLOSED = 2;
  private static final VarHandle STATE, HOOKS;

  static {
    try {
      var l = MethodHandles.lookup();
      STATE = l.findVarHandle(CancelHook.class, "state", int.class);
      HOOKS =
          MethodHandles.privateLookupIn(ScopeNode.class, l)
              .findVarHandle(ScopeNode.class, "hooks", CancelHook[].class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final ScopeNode scope;
  private final Runnable action;
  private volatile int state;

  private CancelHook(ScopeNode scope, Runnable action) {
    this.scope = scope;
    this.action = action;
  }

  /** {@link CancelScope#onCancel} of {@code scope}. */
  static CancelHook register(ScopeNode scope, Runnable action) {
    Objects.requireNonNull(action, "action");
    if (scope.isClosed()) {
      throw new IllegalStateException(
          scope.describe() + " is closed; cannot register a cancellation hook");
    }
    CancelHook h = new CancelHook(scope, action);
    CancelHook[] a, b;
    do {
      a = scope.hooks;
      b = a == null ? new CancelHook[] {h} : append(a, h);
    } while (!HOOKS.compareAndSet(scope, a, b));
    if (scope.isClosed()) h.close(); // exited meanwhile: it never runs
    else if (ScopeNode.cancelledFrom(scope) != null) h.fire(); // reached already: run it now
    return h;
  }

  /** Fires every hook of {@code scope}: cancellation reached it. On the cancelling thread. */
  static void fireAll(ScopeNode scope) {
    CancelHook[] a = scope.hooks;
    if (a == null) return;
    for (CancelHook h : a) h.fire();
  }

  /** Closes every hook of {@code scope}: it is exiting. */
  static void closeAll(ScopeNode scope) {
    CancelHook[] a = scope.hooks;
    if (a == null) return;
    for (CancelHook h : a) STATE.compareAndSet(h, ARMED, CLOSED);
    HOOKS.compareAndSet(scope, a, null); // a hook added meanwhile removes itself (it sees closed)
  }

  private void fire() {
    if (!STATE.compareAndSet(this, ARMED, FIRED)) return;
    try {
      action.run();
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "A cancellation hook of " + scope.describe() + " threw; the others still run",
          e);
    }
  }

  @Override
  public void close() {
    if (STATE.compareAndSet(this, ARMED, CLOSED) || state == CLOSED) unlink();
  }

  @Override
  public boolean fired() {
    return state == FIRED;
  }

  /** Removes this hook from its scope's array, so that a long-lived scope keeps no closed hooks. */
  private void unlink() {
    CancelHook[] a, b;
    do {
      a = scope.hooks;
      if (a == null) return;
      int i = Arrays.asList(a).indexOf(this);
      if (i < 0) return;
      if (a.length == 1) {
        b = null;
      } else {
        b = new CancelHook[a.length - 1];
        System.arraycopy(a, 0, b, 0, i);
        System.arraycopy(a, i + 1, b, i, a.length - i - 1);
      }
    } while (!HOOKS.compareAndSet(scope, a, b));
  }

  private static CancelHook[] append(CancelHook[] a, CancelHook h) {
    CancelHook[] b = Arrays.copyOf(a, a.length + 1);
    b[a.length] = h;
    return b;
  }

  @Override
  public String toString() {
    String s = state == ARMED ? "armed" : state == FIRED ? "fired" : "closed";
    return "CancelScope.Registration[" + scope.describe() + ", " + s + "]";
  }
}
