package dev.lifespan.internal;

import dev.lifespan.CancelScope;
import dev.lifespan.CheckedRunnable;
import dev.lifespan.ScopedCallable;
import dev.lifespan.Startable;
import dev.lifespan.Task;
import dev.lifespan.TaskFailedException;
import dev.lifespan.TaskGroup;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ThreadFactory;

/**
 * A task group: the scope its body and children run under, plus the list of running children.
 *
 * <p>States: open while the body runs or any child runs; closed once the body has returned and the
 * last child ended. The running children, their count and the failure to report live in a {@link
 * ChildList}, which takes no lock to start or end a task.
 */
public final class GroupImpl extends TaskOwner implements TaskGroup {
  private GroupImpl(String name, ScopeNode parent, Timer timer, ThreadFactory factory) {
    super(name, parent, timer, factory, AppContext.current());
  }

  @Override
  String kind() {
    return "TaskGroup";
  }

  /** TaskGroup.call: opens a group on the calling thread, runs the body, waits for children. */
  public static <T, X extends Throwable> T open(
      String name, ThreadFactory factory, ScopedCallable<? super TaskGroup, ? extends T, X> body)
      throws X {
    ThreadFrame f = ThreadFrame.current();
    ScopeNode p = f.innermost();
    GroupImpl g = new GroupImpl(name, p, p != null ? p.timer : f.timer(), factory);
    g.enter(f);
    Roots.opened(g);
    T result = null;
    Throwable thrown = null;
    try {
      result = body.call(g);
    } catch (Throwable t) {
      thrown = t;
    }
    if (thrown != null && !(Exceptions.isCancellation(thrown) && cancelledFrom(g) != null)) {
      g.fail(thrown);
    }
    g.children.awaitEmptyAndClose(g);
    Roots.ended(g);
    Throwable failed = g.children.failure();
    if (failed != null) {
      g.leave(null); // the failure wins over any cancellation; nothing is absorbed
      throw Exceptions.sneaky(failed);
    }
    return g.exit(thrown) ? null : result;
  }

  // ---- TaskGroup

  @Override
  public <R> Task<R> fork(Callable<? extends R> body) {
    return spawnTask(null, Objects.requireNonNull(body, "body"), false, false);
  }

  @Override
  public <R> Task<R> fork(String name, Callable<? extends R> body) {
    Objects.requireNonNull(name, "name");
    return spawnTask(name, Objects.requireNonNull(body, "body"), false, false);
  }

  @Override
  public Task<Void> spawn(CheckedRunnable body) {
    return spawnTask(null, Objects.requireNonNull(body, "body"), false, false);
  }

  @Override
  public Task<Void> spawn(String name, CheckedRunnable body) {
    Objects.requireNonNull(name, "name");
    return spawnTask(name, Objects.requireNonNull(body, "body"), false, false);
  }

  @Override
  public <V> V start(String name, Startable<V> body) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(body, "body");
    StartGate<V> gate = new StartGate<>(name, body);
    TaskImpl<Void> task = spawnTask(name, gate, false, false);
    try {
      Waiting.await(gate::settled, gate);
    } catch (RuntimeException | Error e) { // the caller was cancelled or interrupted
      if (gate.abandon()) task.cancel();
      throw e;
    }
    if (gate.isStarted()) return gate.value();
    task.awaitEnd(null); // it ended: its outcome is being published
    if (task.outcome() == TaskImpl.SUCCESS) {
      throw new IllegalStateException("Task '" + name + "' returned without reporting started");
    }
    if (task.outcome() == TaskImpl.FAILED) throw new TaskFailedException(name, task.failure());
    throw new CancellationException("Task '" + name + "' was cancelled before it reported started");
  }

  @Override
  public CancelScope scope() {
    return this;
  }

  // ---- children

  @Override
  RuntimeException refused(String taskName) {
    return new IllegalStateException(
        "TaskGroup '" + name() + "' has ended; cannot spawn task '" + taskName + "'");
  }

  /** A child is ending with a failure the group must report: the first one cancels the group. */
  @Override
  void childFailing(TaskImpl<?> t, Throwable failure) {
    Throwable report =
        failure instanceof VirtualMachineError
            ? failure
            : new TaskFailedException(t.name(), failure);
    if (children.record(report)) cancel("task '" + t.name() + "' failed");
  }

  @Override
  void childEnded(TaskImpl<?> t, Throwable failure) {
    children.remove(t, null); // its failure was recorded by childFailing
  }

  /** The body failed with {@code thrown}: record it, and cancel the group if it is the first. */
  private void fail(Throwable thrown) {
    if (children.record(thrown)) cancel("the body of TaskGroup '" + name() + "' failed");
  }

  @Override
  public String toString() {
    return super.toString().replace("]", ", running=" + children.running() + "]");
  }
}
