package dev.lifespan.internal;

import dev.lifespan.CheckedRunnable;
import dev.lifespan.Task;
import dev.lifespan.TaskFailedException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * A task: the root scope of its thread, the {@link ThreadFrame} of that thread, a child of its
 * owner's scope (a group's or a supervisor's), and the handle returned to whoever spawned it: one
 * object beyond the thread. A must-finish task's root scope is a shield. The thread finds its task
 * through its uncaught-exception handler, which is the task (see {@link ThreadFrame}); the task
 * passes an uncaught exception on to the handler the thread had before.
 *
 * <p>States: {@code RUNNING -> SUCCESS | FAILED | CANCELLED}, published by the volatile {@link
 * #outcome} after {@link #result}. Waiters and futures sit on a Treiber stack in {@link #waiters}
 * that the ending task swaps for {@link #DONE}.
 */
public final class TaskImpl<T> extends ScopeNode
    implements Task<T>, Runnable, ThreadFrame, Thread.UncaughtExceptionHandler {
  static final int RUNNING = 0, SUCCESS = 1, FAILED = 2, CANCELLED = 3;
  private static final Object DONE = new Object();
  private static final VarHandle WAITERS;

  static {
    try {
      WAITERS = MethodHandles.lookup().findVarHandle(TaskImpl.class, "waiters", Object.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The owner: the parent scope of a task's root scope. */
  TaskOwner owner() {
    return (TaskOwner) parent;
  }

  /** Whether the task was forked (its failure goes to whoever joins) rather than spawned. */
  final boolean forked;

  /**
   * {@link System#nanoTime()} at spawn, for the task's age in dumps and reports; from the coarse
   * clock, up to {@value SystemTimer#TICK_MILLIS} ms early.
   */
  final long spawnedAt = SystemTimer.INSTANCE.coarseNanos();

  /** Set once a caller was handed the task's failure (join, exceptionNow, a future). */
  volatile boolean observed;

  /** Notes that a caller took the failure, so the owner stops holding it for one. */
  void markObserved() {
    if (!observed) {
      observed = true;
      owner().failureTaken(this);
    }
  }

  /**
   * For an unnamed task, its number in the group, from which its name is generated lazily; set
   * before the task's thread starts.
   */
  int number;

  /** A {@link Callable} or a {@link CheckedRunnable}; cleared when the task ends. */
  private Object body;

  Thread thread;

  private volatile int outcome;
  private Object result; // T or Throwable; written before outcome

  /** null, {@link #DONE}, or a {@link WaitNode} stack. */
  private volatile Object waiters;

  /** The next older task in the owner's {@link ChildList}; see there. */
  volatile TaskImpl<?> next;

  /** The thread's innermost open scope; see {@link ThreadFrame}. */
  private ScopeNode innermost;

  /** See {@link ThreadFrame#cancelInterrupted()}. */
  private boolean cancelInterrupted;

  /** The uncaught-exception handler the thread had before the task took the slot, or null. */
  private Thread.UncaughtExceptionHandler chained;

  TaskImpl(String name, TaskOwner owner, Object body, boolean mustFinish, boolean forked) {
    super(name, owner, mustFinish, owner.timer, true);
    this.body = body;
    this.forked = forked;
  }

  @Override
  String generatedName() {
    return parent.name() + "-" + number;
  }

  @Override
  String kind() {
    return "Task";
  }

  // ---- running, on the task's thread

  /** Binds the task to its new thread {@code th}, before the thread starts. */
  void bind(Thread th) {
    Thread.UncaughtExceptionHandler h = th.getUncaughtExceptionHandler();
    if (h != th.getThreadGroup()) chained = h; // the thread factory set one
    th.setUncaughtExceptionHandler(this);
    thread = th;
  }

  /** Its thread could not be created or started: ends it failed, reported to nobody. */
  void notStarted(Throwable e) {
    observed = true;
    result = e;
    body = null;
    outcome = FAILED;
  }

  @Override
  public void uncaughtException(Thread t, Throwable e) {
    if (chained != null) chained.uncaughtException(t, e);
    else t.getThreadGroup().uncaughtException(t, e);
  }

  // ---- ThreadFrame

  @Override
  public Thread thread() {
    return thread;
  }

  @Override
  public ScopeNode innermost() {
    return innermost;
  }

  @Override
  public void innermost(ScopeNode s) {
    innermost = s;
  }

  @Override
  public boolean cancelInterrupted() {
    return cancelInterrupted;
  }

  @Override
  public void cancelInterrupted(boolean b) {
    cancelInterrupted = b;
  }

  @Override
  public Timer timer() {
    return timer;
  }

  /** The task's thread: one frame under the body, so that a parked task's stack stays small. */
  @Override
  @SuppressWarnings("unchecked")
  public void run() {
    // The only read where nothing is observed; the observers told of the start are told the end.
    Observers.Observed[] observers =
        Observers.active == 0 ? null : Observers.resolve(owner().context);
    String observedName = null; // an unnamed task's name is built once, for both events
    if (observers != null) {
      Observers.taskStarted(observers, owner().observedAs(), observedName = name(), shield);
    }
    Throwable thrown = null;
    T value = null;
    try {
      enter(this);
      ScopeNode by = cancelledFrom(this);
      if (by != null) {
        thrown = by.cancelledException(); // cancelled before it started
      } else {
        try {
          if (body instanceof CheckedRunnable r) r.run();
          else value = ((Callable<? extends T>) body).call();
        } catch (Throwable t) {
          thrown = t;
        }
      }
      leave(thrown);
    } catch (Throwable t) { // enter/leave misuse cannot happen here; keep it anyway
      if (thrown == null) thrown = t;
      else thrown.addSuppressed(t);
    } finally {
      end(value, thrown, observers, observedName);
    }
  }

  /**
   * Ends the task: publishes its outcome and tells its owner; tells {@code observers} (null: none)
   * first, naming the task {@code observedName}.
   */
  private void end(T value, Throwable thrown, Observers.Observed[] observers, String observedName) {
    int o;
    if (thrown == null) o = SUCCESS;
    else if (Exceptions.isCancellation(thrown) && cancelledFrom(this) != null) o = CANCELLED;
    else o = FAILED;
    if (o == FAILED) {
      clearCancelInterrupt(); // the failure handler runs on this thread
      Events.taskFailed(this, thrown);
    }
    Throwable toGroup = o == FAILED ? thrown : null;
    if (Propagation.unwrap(body) instanceof StartGate<?> gate && gate.taskEnded()) {
      toGroup = null; // start's caller takes the outcome
    }
    TaskOwner owner = owner();
    if (toGroup != null) owner.childFailing(this, toGroup);
    if (observers != null) {
      Observers.taskEnded(
          observers,
          owner.observedAs(),
          observedName,
          shield,
          o == SUCCESS
              ? Future.State.SUCCESS
              : o == FAILED ? Future.State.FAILED : Future.State.CANCELLED,
          o == FAILED ? thrown : null);
    }
    result = o == SUCCESS ? value : thrown;
    body = null;
    outcome = o;
    owner.childEnded(this, toGroup);
    // Waiters push themselves and then check the outcome; this reads them after publishing it, so
    // one of the two sees the other, and with none the common case costs no atomic swap.
    Object w = waiters;
    if (w != null) w = WAITERS.getAndSet(this, DONE);
    for (WaitNode n = (WaitNode) w; n != null; n = n.next) {
      if (n.item instanceof Thread t) LockSupport.unpark(t);
      else ((TaskFuture<?>) n.item).settle();
    }
  }

  /** Clears an interrupt that a cancellation left on this thread; on the task's thread. */
  private void clearCancelInterrupt() {
    synchronized (this) {
      if (cancelInterrupted) {
        cancelInterrupted = false;
        Thread.interrupted();
      }
    }
  }

  // ---- Task

  @Override
  public Future.State state() {
    return switch (outcome) {
      case SUCCESS -> Future.State.SUCCESS;
      case FAILED -> Future.State.FAILED;
      case CANCELLED -> Future.State.CANCELLED;
      default -> Future.State.RUNNING;
    };
  }

  @Override
  public boolean isDone() {
    return outcome != RUNNING;
  }

  @Override
  public T join() {
    requireNotSelf("join");
    awaitEnd(null);
    // A failure cancels a fail-fast group before it is published, so a joiner of the failed
    // sibling gets the cancellation, never the failure that the group reports (regression:
    // TaskTest's failed-sibling join, once in a while). Only then: a join that succeeds pays
    // nothing.
    if (outcome == FAILED) Scopes.checkpoint();
    return report();
  }

  @Override
  public void cancelAndWait(Duration timeout) throws TimeoutException {
    Objects.requireNonNull(timeout, "timeout");
    checkTimeout(timeout);
    requireNotSelf("cancelAndWait");
    cancel();
    if (!awaitEnd(timeout)) {
      throw new TimeoutException(
          "Task '" + name() + "' did not end within " + timeout + " after it was cancelled");
    }
    if (outcome == FAILED) {
      markObserved();
      throw new TaskFailedException(name(), (Throwable) result);
    }
  }

  @Override
  public T resultNow() {
    if (outcome != SUCCESS) {
      throw new IllegalStateException("Task '" + name() + "' has not succeeded: " + state());
    }
    return value();
  }

  @Override
  public Throwable exceptionNow() {
    if (outcome != FAILED) {
      throw new IllegalStateException("Task '" + name() + "' has not failed: " + state());
    }
    markObserved();
    return (Throwable) result;
  }

  @Override
  public CompletableFuture<T> toCompletableFuture() {
    TaskFuture<T> f = new TaskFuture<>(this);
    WaitNode node = new WaitNode(f);
    while (true) {
      Object head = waiters;
      if (head == DONE) {
        f.settle();
        return f;
      }
      node.next = (WaitNode) head;
      if (WAITERS.compareAndSet(this, head, node)) break;
    }
    if (isDone())
      f.settle(); // ended after the push, maybe without seeing it; settling is idempotent
    return f;
  }

  @Override
  public String toString() {
    return "Task[" + name() + ", " + state() + "]";
  }

  // ---- internals

  @SuppressWarnings("unchecked")
  T value() {
    return (T) result;
  }

  int outcome() {
    return outcome;
  }

  Throwable failure() {
    return outcome == FAILED ? (Throwable) result : null;
  }

  T report() {
    return switch (outcome) {
      case SUCCESS -> value();
      case FAILED -> {
        markObserved();
        throw new TaskFailedException(name(), (Throwable) result);
      }
      default -> throw new CancellationException("Task '" + name() + "' was cancelled");
    };
  }

  private void requireNotSelf(String what) {
    if (Thread.currentThread() == thread) {
      throw new IllegalStateException("Task '" + name() + "' cannot " + what + " itself");
    }
  }

  /**
   * Waits (checkpoint semantics) until the task ended; false if {@code timeout} (null: none), on
   * the task's clock, ran out.
   */
  boolean awaitEnd(Duration timeout) {
    Timer t = timeout == null ? null : timer;
    long deadline = timeout == null ? 0 : timer.after(timeout);
    if (outcome != RUNNING) return Waiting.await(this::isDone, this, t, deadline);
    WaitNode node = new WaitNode(Thread.currentThread());
    while (true) {
      Object head = waiters;
      if (head == DONE) return true;
      node.next = (WaitNode) head;
      if (WAITERS.compareAndSet(this, head, node)) break;
    }
    return Waiting.await(this::isDone, this, t, deadline);
  }

  static final class WaitNode {
    final Object item; // a waiting Thread or a TaskFuture
    WaitNode next;

    WaitNode(Object item) {
      this.item = item;
    }
  }
}
