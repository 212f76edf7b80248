package dev.lifespan.internal;

import dev.lifespan.ScopedCallable;

/**
 * Per-thread cancellation state: the innermost open scope of one thread, and whether the thread
 * carries an interrupt that a scope's cancellation caused.
 *
 * <p>Both fields are guarded by this object's monitor. The owner thread changes {@link #current}
 * only under the monitor (on scope entry and exit) and may read it without; other threads read it
 * only under the monitor. Cancelling threads decide whether to interrupt under the same monitor, so
 * a thread is never interrupted after it has entered a shield or left the cancelled scope.
 */
public final class ThreadFrame {
  /** Frames of threads that are not tasks, kept for the thread's life once it used a scope. */
  private static final ThreadLocal<ThreadFrame> FRAMES = new ThreadLocal<>();

  /**
   * Frames of task threads, bound for the task's run: cheaper than a thread-local map on every task
   * thread.
   */
  static final ScopedValue<ThreadFrame> TASK_FRAME = ScopedValue.newInstance();

  private static final ThreadFrame NONE = new ThreadFrame(null);

  final Thread thread;

  /** Timer for scopes opened on this thread outside any other scope. */
  Timer timer = SystemTimer.INSTANCE;

  /** Innermost open scope of {@link #thread}, or null. */
  ScopeNode current;

  /** True while {@link #thread} carries an interrupt delivered for a cancellation. */
  boolean cancelInterrupted;

  ThreadFrame(Thread thread) {
    this.thread = thread;
  }

  /** The calling thread's frame, created on first use. */
  static ThreadFrame current() {
    ThreadFrame f = TASK_FRAME.orElse(NONE);
    if (f != NONE) return f;
    f = FRAMES.get();
    if (f == null) {
      f = new ThreadFrame(Thread.currentThread());
      FRAMES.set(f);
    }
    return f;
  }

  /** The calling thread's frame, or null if it never entered a scope. */
  static ThreadFrame currentOrNull() {
    ThreadFrame f = TASK_FRAME.orElse(NONE);
    return f != NONE ? f : FRAMES.get();
  }

  /** Interrupts {@link #thread} if its innermost scope is cancelled and it was not yet told. */
  synchronized void interruptIfCancelled() {
    ScopeNode c = current;
    if (!cancelInterrupted && c != null && ScopeNode.cancelledFrom(c) != null) {
      cancelInterrupted = true;
      thread.interrupt();
    }
  }

  /** Owner thread: makes sure the interrupt flag is set, for level-triggered cancellation. */
  synchronized void reassertInterrupt() {
    cancelInterrupted = true;
    if (!thread.isInterrupted()) thread.interrupt();
  }

  /**
   * Test hook: runs {@code body} with scopes opened at the top of the calling thread (and every
   * task spawned below them) on {@code timer}.
   */
  public static <T, X extends Throwable> T withTimer(Timer timer, ScopedCallable<Timer, T, X> body)
      throws X {
    ThreadFrame f = current();
    if (f.current != null) {
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
}
