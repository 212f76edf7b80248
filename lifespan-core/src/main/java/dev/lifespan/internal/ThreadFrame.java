package dev.lifespan.internal;

import dev.lifespan.ScopedCallable;

/**
 * Per-thread cancellation state: the innermost open scope of one thread, and whether the thread
 * carries an interrupt that a scope's cancellation caused.
 *
 * <p>A task's thread has the task itself as its frame ({@link TaskImpl}): spawning a task allocates
 * nothing for it. Any other thread gets a {@link PlainFrame} on its first scope, kept in a
 * thread-local for the thread's life. A task thread is recognised by its uncaught-exception
 * handler, which the spawner sets to the task: a slot every thread has, read without a lookup, that
 * costs no allocation and no stack frame (a {@link ScopedValue} binding cost three objects and five
 * frames per task, a thread-local a map per thread).
 *
 * <p>Both fields are guarded by the frame's monitor. The owner thread changes the innermost scope
 * only under the monitor (on scope entry and exit; a task's first scope is the exception, see
 * {@link ScopeNode#enter}) and may read it without; other threads read it only under the monitor.
 * Cancelling threads decide whether to interrupt under the same monitor, so a thread is never
 * interrupted after it has entered a shield or left the cancelled scope.
 */
public sealed interface ThreadFrame permits TaskImpl, ThreadFrame.PlainFrame {

  /** The thread this frame belongs to. */
  Thread thread();

  /** Innermost open scope of {@link #thread()}, or null. */
  ScopeNode innermost();

  void innermost(ScopeNode s);

  /** True while {@link #thread()} carries an interrupt delivered for a cancellation. */
  boolean cancelInterrupted();

  void cancelInterrupted(boolean b);

  /** Timer for scopes opened on this thread outside any other scope. */
  Timer timer();

  /**
   * Interrupts {@link #thread()} if its innermost scope is cancelled and it was not yet told;
   * inside a scope opened without interrupts, wakes it from a library wait instead ({@link
   * ScopeNode#interruptFree}).
   */
  default void interruptIfCancelled() {
    synchronized (this) {
      ScopeNode c = innermost();
      if (!cancelInterrupted() && c != null && ScopeNode.cancelledFrom(c) != null) {
        if (ScopeNode.interruptFree(c)) {
          java.util.concurrent.locks.LockSupport.unpark(thread());
        } else {
          cancelInterrupted(true);
          thread().interrupt();
        }
      }
    }
  }

  /**
   * Owner thread: makes sure the interrupt flag is set, for level-triggered cancellation; not
   * inside a scope opened without interrupts.
   */
  default void reassertInterrupt() {
    synchronized (this) {
      ScopeNode c = innermost();
      if (c != null && ScopeNode.interruptFree(c)) return;
      cancelInterrupted(true);
      Thread t = thread();
      if (!t.isInterrupted()) t.interrupt();
    }
  }

  /** The task running on the calling thread, or null if it is not a task's thread. */
  static TaskImpl<?> currentTask() {
    return Thread.currentThread().getUncaughtExceptionHandler() instanceof TaskImpl<?> t ? t : null;
  }

  /** The calling thread's frame, created on first use. */
  static ThreadFrame current() {
    TaskImpl<?> t = currentTask();
    if (t != null) return t;
    PlainFrame f = PlainFrame.FRAMES.get();
    if (f == null) {
      f = new PlainFrame(Thread.currentThread());
      PlainFrame.FRAMES.set(f);
    }
    return f;
  }

  /** The calling thread's frame, or null if it never entered a scope. */
  static ThreadFrame currentOrNull() {
    TaskImpl<?> t = currentTask();
    return t != null ? t : PlainFrame.FRAMES.get();
  }

  /**
   * Test hook: runs {@code body} with scopes opened at the top of the calling thread (and every
   * task spawned below them) on {@code timer}. The calling thread must not be a task's.
   */
  static <T, X extends Throwable> T withTimer(Timer timer, ScopedCallable<Timer, T, X> body)
      throws X {
    if (!(current() instanceof PlainFrame f) || f.current != null) {
      throw new IllegalStateException("withTimer must be called outside any scope");
    }
    Timer previous = f.timer;
    f.timer = timer;
    try {
      return body.call(timer);
    } finally {
      f.timer = previous;
    }
  }

  /** The frame of a thread that is not a task's. */
  final class PlainFrame implements ThreadFrame {
    /** Frames of threads that are not tasks, kept for the thread's life once it used a scope. */
    static final ThreadLocal<PlainFrame> FRAMES = new ThreadLocal<>();

    private final Thread thread;
    Timer timer = SystemTimer.INSTANCE;
    ScopeNode current;
    boolean cancelInterrupted;

    PlainFrame(Thread thread) {
      this.thread = thread;
    }

    @Override
    public Thread thread() {
      return thread;
    }

    @Override
    public ScopeNode innermost() {
      return current;
    }

    @Override
    public void innermost(ScopeNode s) {
      current = s;
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
  }
}
