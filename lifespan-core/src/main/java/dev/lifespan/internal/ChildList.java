package dev.lifespan.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/** Padding before {@link ChildListFields}, so its writes do not share a line with its owner. */
abstract class ChildListPadBefore {
  long p00, p01, p02, p03, p04, p05, p06, p07;
}

/** The fields of {@link ChildList}; see there. */
abstract class ChildListFields extends ChildListPadBefore {
  volatile int running; // running children, plus ChildList.CLOSED once closed
  volatile TaskImpl<?> head; // the newest child; older ones through TaskImpl.next
  volatile int unnamed; // how many unnamed children were added, for their generated names
  int dead; // ended children still linked; a hint, updated without atomics
  volatile boolean compacting;
  volatile Thread[] waiters; // threads waiting for the list to empty; copy-on-write
  Throwable failure; // the first failure to report, with later ones suppressed; guarded by this
}

/**
 * The running children of one owner (a task group or a supervisor): a count, a lock-free list,
 * whether it is closed to new children, and the failure to report.
 *
 * <p>Spawning and ending a child take no lock: a spawn adds one to {@link #running} and pushes the
 * child on the list (two atomic operations); an ending child subtracts one (one atomic operation)
 * and stays linked, marked by its published outcome, until a later ending child finds that ended
 * children outnumber running ones and unlinks them all in one pass ({@link #compact}), so the list
 * stays within twice the running children plus a constant. Only one thread compacts at a time; it
 * alone changes the links of children already in the list, and spawns change only the head. A child
 * it unlinks points to itself from then on, so a reader standing on it starts again from the head
 * instead of following a stale chain, and a task handle kept by a caller retains no other task.
 *
 * <p>Readers (cancellation, task dumps, shutdown) walk the list without a lock and skip ended
 * children. A spawn pushes the child before the child's thread checks for cancellation, and
 * cancellation marks the scope before it reads the list, so a child is either reached by the walk
 * or sees the cancellation itself. Waiting for the list to empty, the failure and closing are rare
 * and may lock.
 *
 * <p>The object is padded: its count and head are written by many threads at once and kept apart
 * from the owner's read-mostly fields (its cancellation state, read by every child as it starts).
 */
final class ChildList extends ChildListFields {
  long p10, p11, p12, p13, p14, p15, p16, p17;

  /** Set in {@link #running} once the list refuses new children. */
  static final int CLOSED = 1 << 30;

  /** Ended children tolerated in the list before a compaction, whatever the running count. */
  private static final int SLACK = 64;

  private static final VarHandle RUNNING, HEAD, UNNAMED, COMPACTING;

  static {
    try {
      var l = MethodHandles.lookup();
      RUNNING = l.findVarHandle(ChildListFields.class, "running", int.class);
      HEAD = l.findVarHandle(ChildListFields.class, "head", TaskImpl.class);
      UNNAMED = l.findVarHandle(ChildListFields.class, "unnamed", int.class);
      COMPACTING = l.findVarHandle(ChildListFields.class, "compacting", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Adds a new child, numbering it if it is unnamed; false if the list is closed. */
  boolean add(TaskImpl<?> t, boolean unnamedChild) {
    if (((int) RUNNING.getAndAdd(this, 1) & CLOSED) != 0) {
      ended(); // closed: take the count back
      return false;
    }
    if (unnamedChild) t.number = (int) UNNAMED.getAndAdd(this, 1) + 1;
    TaskImpl<?> h;
    do {
      h = head;
      t.next = h;
    } while (!HEAD.compareAndSet(this, h, t));
    return true;
  }

  /**
   * Removes an ended child (its outcome is published), recording {@code failure} if non-null;
   * returns true if that was the first failure. Wakes the threads waiting for the list to empty if
   * it was the last running child.
   */
  boolean remove(TaskImpl<?> t, Throwable failure) {
    boolean first = failure != null && record(failure);
    if (++dead > SLACK
        && dead > (running & ~CLOSED)
        && COMPACTING.compareAndSet(this, false, true)) {
      try {
        compact();
      } finally {
        compacting = false;
      }
    }
    ended();
    return first;
  }

  private void ended() {
    if ((((int) RUNNING.getAndAdd(this, -1) - 1) & ~CLOSED) == 0) {
      Thread[] w = waiters;
      if (w != null) {
        for (Thread x : w) LockSupport.unpark(x);
      }
    }
  }

  /** Unlinks every ended child but the head; one compactor at a time. */
  private void compact() {
    dead = 0;
    TaskImpl<?> keep = head;
    if (keep == null) return;
    TaskImpl<?> n = keep.next;
    while (n != null) {
      TaskImpl<?> after = n.next;
      if (n.isDone()) {
        n.next = n; // unlinked: readers standing here start again
      } else {
        if (keep.next != n) keep.next = n;
        keep = n;
      }
      n = after;
    }
    if (keep.next != null) keep.next = null;
  }

  /**
   * Calls {@code action} for each running child, newest first; a child may be visited twice when a
   * compaction runs meanwhile, and one that ends meanwhile may be visited or not.
   */
  void forEach(java.util.function.Consumer<? super TaskImpl<?>> action) {
    restart:
    while (true) {
      for (TaskImpl<?> t = head; t != null; ) {
        if (!t.isDone()) action.accept(t);
        TaskImpl<?> n = t.next;
        if (n == t) continue restart;
        t = n;
      }
      return;
    }
  }

  /** The children running now, newest first, each once. */
  List<TaskImpl<?>> snapshot() {
    var list = new ArrayList<TaskImpl<?>>();
    restart:
    while (true) {
      list.clear();
      for (TaskImpl<?> t = head; t != null; ) {
        if (!t.isDone()) list.add(t);
        TaskImpl<?> n = t.next;
        if (n == t) continue restart;
        t = n;
      }
      return list;
    }
  }

  /** Records a failure that is not a child's; returns true if it is the first. */
  synchronized boolean record(Throwable t) {
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

  synchronized Throwable failure() {
    return failure;
  }

  int running() {
    return running & ~CLOSED;
  }

  /** Refuses new children from now on. */
  void close() {
    RUNNING.getAndBitwiseOr(this, CLOSED);
  }

  /**
   * Owner: waits until no child runs, then closes the list. Does not give up when interrupted or
   * cancelled, so that no child outlives its owner; an interrupt is restored afterwards.
   */
  void awaitEmptyAndClose(Object blocker) {
    do {
      awaitEmpty(null, 0, blocker);
    } while (!RUNNING.compareAndSet(this, 0, CLOSED)); // a spawn from outside came in between
  }

  /**
   * Waits, without giving up when interrupted or cancelled, until no child runs or until {@code
   * deadline} on {@code timer} (null: no limit); an interrupt is restored afterwards. Returns
   * whether the list is empty.
   */
  boolean awaitEmpty(Timer timer, long deadline, Object blocker) {
    if (running() == 0) return true;
    boolean interrupted = false;
    Thread me = Thread.currentThread();
    Timer.Alarm alarm = timer == null ? null : timer.alarm(deadline);
    addWaiter(me);
    try {
      while (true) {
        if (running() == 0) return true;
        if (alarm != null && alarm.fired()) return running() == 0;
        LockSupport.park(blocker);
        if (Thread.interrupted()) interrupted = true;
      }
    } finally {
      if (alarm != null) timer.cancel(alarm);
      removeWaiter(me);
      if (interrupted) me.interrupt();
    }
  }

  /** Registers {@code t} to be woken when the list becomes empty. */
  synchronized void addWaiter(Thread t) {
    Thread[] w = waiters;
    if (w == null) {
      waiters = new Thread[] {t};
    } else {
      Thread[] b = java.util.Arrays.copyOf(w, w.length + 1);
      b[w.length] = t;
      waiters = b;
    }
  }

  /** Unregisters one registration of {@code t}. */
  synchronized void removeWaiter(Thread t) {
    Thread[] w = waiters;
    if (w == null) return;
    for (int i = 0; i < w.length; i++) {
      if (w[i] == t) {
        if (w.length == 1) {
          waiters = null;
        } else {
          Thread[] b = new Thread[w.length - 1];
          System.arraycopy(w, 0, b, 0, i);
          System.arraycopy(w, i + 1, b, i, w.length - i - 1);
          waiters = b;
        }
        return;
      }
    }
  }
}
