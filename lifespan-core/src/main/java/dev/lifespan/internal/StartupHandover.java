package dev.lifespan.internal;

/**
 * The scope of the layer that is starting, handed between the runner thread and the first shutdown
 * request under this object's lock: a layer either sees the request before it begins to start, or
 * is cancelled by it, never neither; and a layer that reports itself started after the request
 * learns that its startup was cancelled.
 */
final class StartupHandover {
  private final Lifecycle life;
  private ScopeNode starting; // guarded by this: the scope of the layer starting, if any

  StartupHandover(Lifecycle life) {
    this.life = life;
  }

  /** A layer begins to start in scope {@code s}; false if a shutdown was requested before. */
  synchronized boolean begin(ScopeNode s) {
    if (life.get().stopping()) return false;
    starting = s;
    return true;
  }

  /** The layer in scope {@code s} called proceed(); false if a shutdown request cancelled it. */
  synchronized boolean started(ScopeNode s) {
    if (starting == s) starting = null;
    return !s.isCancelCalled();
  }

  /** The layer in scope {@code s} returned, started or not. */
  synchronized void end(ScopeNode s) {
    if (starting == s) starting = null;
  }

  /** For the first shutdown request: cancels the layer still starting, if any. */
  synchronized void cancel() {
    if (starting != null) starting.cancel("shutdown requested during startup");
  }
}
