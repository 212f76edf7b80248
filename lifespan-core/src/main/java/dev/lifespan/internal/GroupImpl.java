package dev.lifespan.internal;

import dev.lifespan.CancelScope;
import dev.lifespan.CheckedRunnable;
import dev.lifespan.ScopedCallable;
import dev.lifespan.Startable;
import dev.lifespan.Task;
import dev.lifespan.TaskFailedException;
import dev.lifespan.TaskGroup;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.LockSupport;

/**
 * A task group: the scope its body and children run under, plus the list of running children.
 *
 * <p>States: open while the body runs or any child runs; {@link #closed} once the body has returned
 * and the last child ended. {@link #lock} guards the list, the count, the first failure and the
 * owner's parking; tasks are started and cancelled outside it.
 */
public final class GroupImpl extends ScopeNode implements TaskGroup {
  private static final ThreadFactory VIRTUAL = Thread.ofVirtual().factory();
  private static final java.lang.invoke.VarHandle SEQ;

  static {
    try {
      SEQ =
          java.lang.invoke.MethodHandles.lookup().findVarHandle(GroupImpl.class, "seq", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Object lock = new Object();
  private final ThreadFactory factory;

  // Guarded by lock.
  private TaskImpl<?> head;
  private int running;
  private boolean closed;
  private Thread waiter;
  private Throwable failure;

  /** Counter for generated task names. */
  private volatile int seq;

  private GroupImpl(String name, ScopeNode parent, Timer timer, ThreadFactory factory) {
    super(name, parent, false, timer);
    this.factory = factory;
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
    ScopeNode p = f.current;
    GroupImpl g = new GroupImpl(name, p, p != null ? p.timer : f.timer, factory);
    g.enter(f);
    T result = null;
    Throwable thrown = null;
    try {
      result = body.call(g);
    } catch (Throwable t) {
      thrown = t;
    }
    if (thrown != null && !(isCancellation(thrown) && cancelledFrom(g) != null)) {
      g.fail(thrown);
    }
    g.awaitChildren();
    Throwable failed;
    synchronized (g.lock) {
      failed = g.failure;
    }
    if (failed != null) {
      g.leave(null); // the failure wins over any cancellation; nothing is absorbed
      throw Exceptions.sneaky(failed);
    }
    return g.exit(thrown) ? null : result;
  }

  // ---- TaskGroup

  @Override
  public <R> Task<R> fork(Callable<? extends R> body) {
    return spawn(null, Objects.requireNonNull(body, "body"), null);
  }

  @Override
  public <R> Task<R> fork(String name, Callable<? extends R> body) {
    Objects.requireNonNull(name, "name");
    return spawn(name, Objects.requireNonNull(body, "body"), null);
  }

  @Override
  public Task<Void> spawn(CheckedRunnable body) {
    return spawn(null, callable(body), null);
  }

  @Override
  public Task<Void> spawn(String name, CheckedRunnable body) {
    Objects.requireNonNull(name, "name");
    return spawn(name, callable(body), null);
  }

  @Override
  public <V> V start(String name, Startable<V> body) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(body, "body");
    StartGate<V> gate = new StartGate<>(name);
    TaskImpl<Void> task =
        spawn(
            name,
            () -> {
              body.run(gate);
              return null;
            },
            gate);
    try {
      Waiting.await(gate::settled, gate, -1);
    } catch (RuntimeException | Error e) { // the caller was cancelled or interrupted
      if (gate.abandon()) task.cancel();
      throw e;
    }
    if (gate.isStarted()) return gate.value();
    task.awaitEnd(-1); // it ended: its outcome is being published
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

  private static Callable<Void> callable(CheckedRunnable body) {
    Objects.requireNonNull(body, "body");
    return () -> {
      body.run();
      return null;
    };
  }

  private <R> TaskImpl<R> spawn(String name, Callable<? extends R> body, StartGate<?> gate) {
    String n = name != null ? name : name() + "-" + ((int) SEQ.getAndAdd(this, 1) + 1);
    TaskImpl<R> t = new TaskImpl<>(n, this, body, gate);
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException(
            "TaskGroup '" + name() + "' has ended; cannot spawn task '" + n + "'");
      }
      running++;
      t.next = head;
      if (head != null) head.prev = t;
      head = t;
    }
    try {
      Thread th = (factory == null ? VIRTUAL : factory).newThread(t);
      if (th == null)
        throw new IllegalStateException("ThreadFactory returned null for task '" + n + "'");
      if (factory == null) th.setName(n);
      t.thread = th;
      th.start();
    } catch (Throwable e) {
      childEnded(t, null);
      throw e;
    }
    return t;
  }

  /** Called by each child as it ends; {@code failure} is non-null if the group must report it. */
  void childEnded(TaskImpl<?> t, Throwable failure) {
    boolean first = false;
    Thread wake = null;
    synchronized (lock) {
      if (t.prev != null) t.prev.next = t.next;
      else if (head == t) head = t.next;
      if (t.next != null) t.next.prev = t.prev;
      t.prev = t.next = null;
      if (failure != null)
        first =
            record(
                failure instanceof VirtualMachineError
                    ? failure
                    : new TaskFailedException(t.name(), failure));
      if (--running == 0) wake = waiter;
    }
    if (first) cancel("task '" + t.name() + "' failed");
    if (wake != null) LockSupport.unpark(wake);
  }

  /** The body failed with {@code thrown}: record it, and cancel the group if it is the first. */
  private void fail(Throwable thrown) {
    boolean first;
    synchronized (lock) {
      first = record(thrown);
    }
    if (first) cancel("the body of TaskGroup '" + name() + "' failed");
  }

  /** Records one failure; returns true if it is the first. Called with the lock held. */
  private boolean record(Throwable t) {
    if (failure == null) {
      failure = t;
      return true;
    }
    if (t instanceof VirtualMachineError && !(failure instanceof VirtualMachineError)) {
      t.addSuppressed(failure); // a fatal error is thrown as itself, ahead of ordinary failures
      failure = t;
    } else {
      failure.addSuppressed(t);
    }
    return false;
  }

  /** Owner: waits, without giving up, until no child runs; then closes the group. */
  private void awaitChildren() {
    boolean interrupted = false;
    synchronized (lock) {
      waiter = Thread.currentThread();
    }
    while (true) {
      synchronized (lock) {
        if (running == 0) {
          closed = true;
          waiter = null;
          break;
        }
      }
      LockSupport.park(this);
      if (Thread.interrupted()) interrupted = true;
    }
    if (interrupted) Thread.currentThread().interrupt();
  }

  @Override
  void pushChildren(ArrayDeque<ScopeNode> todo) {
    synchronized (lock) {
      for (TaskImpl<?> t = head; t != null; t = t.next) {
        if (!t.shield) todo.push(t);
      }
    }
  }

  @Override
  public String toString() {
    int n;
    synchronized (lock) {
      n = running;
    }
    return super.toString().replace("]", ", running=" + n + "]");
  }
}
