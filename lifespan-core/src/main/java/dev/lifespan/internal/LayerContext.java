package dev.lifespan.internal;

import dev.lifespan.Lifespan;
import dev.lifespan.Supervisor;
import dev.lifespan.TaskDump;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link Lifespan.Context} of one layer: {@link #proceed()} runs the layers inside this one and the
 * main body, then stops the background supervisor (once, innermost layer first) and this layer's
 * supervisor, so that background work stops before this layer's resources close.
 *
 * <p>{@link #proceeded} and {@link #misuse} belong to the runner thread; {@link #returned}, {@link
 * #supervisor} and {@link #supervisorStopped} are guarded by this object, because {@link
 * #supervisor()} may be called from any thread of the application. The durable-work counts are
 * added under the same lock, so that an addition either happens before the layer returned (and
 * before the runner makes the result) or is refused.
 */
final class LayerContext implements Lifespan.Context {
  private final AppRunner runner;
  private final int index;
  private final Layers.Layer layer;
  private final String layerName;
  private final RoleScope scope;
  boolean proceeded; // runner thread
  Throwable misuse; // runner thread: the misuse error already reported
  private boolean returned; // guarded by this
  private SupervisorImpl supervisor; // guarded by this
  private boolean supervisorStopped; // guarded by this
  volatile TaskDump.EntrySource dumpSource; // read by dumps

  LayerContext(AppRunner runner, int index, Layers.Layer layer, RoleScope scope) {
    this.runner = runner;
    this.index = index;
    this.layer = layer;
    this.layerName = layer.name();
    this.scope = scope;
  }

  /**
   * Runs the layer in its scope, on the runner thread: its startup, everything inside it (through
   * {@link #proceed()}) and its teardown; then reports how it went. A layer that did not call
   * {@code proceed()} failed to start, unless a shutdown request cancelled its startup.
   */
  void run() {
    if (!runner.beginStarting(scope, layerName)) return;
    Roots.layerStarted(scope, layerName, this);
    Throwable thrown = null;
    try {
      scope.runBody(
          x -> {
            try {
              layer.body().run(this);
            } finally {
              returned();
            }
            return null;
          });
    } catch (Throwable t) {
      thrown = t;
    }
    Roots.layerEnded(scope);
    runner.startup.end(scope);
    if (!proceeded) {
      if (scope.isCancelCalled() && (thrown == null || Exceptions.isCancellation(thrown))) {
        runner.print("startup of layer '" + layerName + "' cancelled");
        return;
      }
      if (thrown == null) {
        thrown =
            new IllegalStateException(
                "Lifespan layer '" + layerName + "' returned without calling proceed()");
      }
      runner.startupFailed(layerName, thrown);
    } else {
      if (thrown != null && thrown != misuse) {
        runner.outcomes.failed("layer '" + layerName + "'", thrown);
      }
      runner.print(
          "layer '"
              + layerName
              + "' torn down"
              + (thrown != null ? " with a failure: " + thrown : ""));
    }
  }

  @Override
  public String name() {
    return layerName;
  }

  @Override
  public String applicationName() {
    return runner.name();
  }

  @Override
  public void proceed() {
    Thread runnerThread = runner.thread();
    if (Thread.currentThread() != runnerThread) {
      throw new IllegalStateException(
          "Lifespan layer '"
              + layerName
              + "' must call proceed() on the thread running it ('"
              + runnerThread.getName()
              + "'), not on '"
              + Thread.currentThread().getName()
              + "'");
    }
    if (proceeded || returnedNow()) {
      IllegalStateException e =
          new IllegalStateException(
              "Lifespan layer '"
                  + layerName
                  + "' called proceed() "
                  + (proceeded ? "twice" : "after it returned"));
      if (misuse == null) {
        misuse = e;
        runner.outcomes.failed("layer '" + layerName + "'", e);
      }
      throw e;
    }
    if (!runner.startup.started(scope)) { // a shutdown request cancelled this layer's startup
      Scopes.checkpoint();
      throw scope.cancelledException();
    }
    proceeded = true;
    runner.print("layer '" + layerName + "' started");
    runner.runFrom(index + 1);
    runner.stopBackground();
    SupervisorImpl s;
    synchronized (this) {
      s = supervisor;
      supervisorStopped = true;
    }
    if (s != null) runner.stopSupervisor(s);
    runner.shutdownPhase(
        "tearing down layer '" + layerName + "'", "tear down layer '" + layerName + "'", null);
  }

  private synchronized boolean returnedNow() {
    return returned;
  }

  @Override
  public Supervisor supervisor() {
    synchronized (this) {
      if (supervisorStopped || returned) {
        throw new IllegalStateException(
            "The supervisor of lifespan layer '" + layerName + "' has been shut down");
      }
      if (supervisor == null) supervisor = runner.open(scope, runner.name() + "/" + layerName);
      return supervisor;
    }
  }

  @Override
  public boolean addDurablePending(int count) {
    return addDurable(count, runner.outcomes.durablePending, "pending");
  }

  @Override
  public boolean addDurableFailed(int count) {
    return addDurable(count, runner.outcomes.durableFailed, "failed");
  }

  private boolean addDurable(int count, AtomicLong total, String what) {
    if (count < 0) throw new IllegalArgumentException("durable " + what + " count < 0: " + count);
    synchronized (this) {
      if (returned) return false;
      total.addAndGet(count);
      return true;
    }
  }

  @Override
  public void listInDumps(TaskDump.EntrySource source) {
    dumpSource = source;
  }

  /** The layer's code returned: shut down a supervisor still open (its startup failed). */
  void returned() {
    SupervisorImpl s;
    synchronized (this) {
      returned = true;
      s = supervisorStopped ? null : supervisor;
      supervisorStopped = true;
    }
    if (s != null) runner.stopSupervisor(s);
  }

  @Override
  public String toString() {
    return "Lifespan.Context[" + layerName + "]";
  }
}
