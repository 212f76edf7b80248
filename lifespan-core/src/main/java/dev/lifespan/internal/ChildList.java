package dev.lifespan.internal;

import java.util.ArrayDeque;
import java.util.concurrent.locks.LockSupport;

/** Padding before {@link ChildListFields}, so its writes do not share a line with its owner. */
abstract class ChildListPadBefore {
  long p00, p01, p02, p03, p04, p05, p06, p07;
}

/** The fields of {@link ChildList}, guarded by its monitor; see there. */
abstract class ChildListFields extends ChildListPadBefore {
  TaskImpl<?> head; // running children, linked through TaskImpl.prev/next
  int running;
  boolean closed;
  java.util.ArrayList<Thread> waiters; // threads waiting for the list to empty
  Throwable failure; // the first failure to report, with later ones suppressed
  int unnamed; // how many unnamed children were added, for their generated names
}

/**
 * The running children of one owner (a task group): an intrusive list, a count, whether it is
 * closed to new children, and the failure to report.
 *
 * <p>Every child adds itself when spawned and removes itself as it ends, so the list is written by
 * many threads at once. It is kept in its own padded object, apart from the owner's read-mostly
 * fields (its cancellation state, read by every child as it starts). Its monitor guards the fields;
 * critical sections are a few pointer writes, never call user code and never take another lock.
 *
 * <p>A spin lock was tried here and removed: a holder that blocks on a frame's monitor while
 * delivering cancellation can be starved by spinners that occupy every carrier thread.
 */
final class ChildList extends ChildListFields {
  long p10, p11, p12, p13, p14, p15, p16, p17;

  /** Adds a new child, numbering it if it is unnamed; false if the list is closed. */
  synchronized boolean add(TaskImpl<?> t, boolean unnamedChild) {
    if (closed) return false;
    if (unnamedChild) t.number = ++unnamed;
    running++;
    t.next = head;
    if (head != null) head.prev = t;
    head = t;
    return true;
  }

  /**
   * Removes an ended child, recording {@code failure} if non-null; returns true if that was the
   * first failure. Wakes the owner if it waits and no child runs any more.
   */
  boolean remove(TaskImpl<?> t, Throwable failure) {
    boolean first = false;
    Object[] wake = null;
    synchronized (this) {
      if (t.prev != null) t.prev.next = t.next;
      else if (head == t) head = t.next;
      if (t.next != null) t.next.prev = t.prev;
      t.prev = t.next = null;
      if (failure != null) first = recordLocked(failure);
      if (--running == 0 && waiters != null) wake = waiters.toArray();
    }
    if (wake != null) {
      for (Object w : wake) LockSupport.unpark((Thread) w);
    }
    return first;
  }

  /** Records a failure that is not a child's; returns true if it is the first. */
  synchronized boolean record(Throwable failure) {
    return recordLocked(failure);
  }

  private boolean recordLocked(Throwable t) {
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

  synchronized int running() {
    return running;
  }

  /** Refuses new children from now on. */
  synchronized void close() {
    closed = true;
  }

  /** The children running now. */
  synchronized java.util.List<TaskImpl<?>> snapshot() {
    var list = new java.util.ArrayList<TaskImpl<?>>(running);
    for (TaskImpl<?> t = head; t != null; t = t.next) list.add(t);
    return list;
  }

  /**
   * Owner: waits until no child runs, then closes the list. Does not give up when interrupted or
   * cancelled, so that no child outlives its owner; an interrupt is restored afterwards.
   */
  void awaitEmptyAndClose(Object blocker) {
    awaitEmpty(null, 0, blocker);
    close();
  }

  /**
   * Waits, without giving up when interrupted or cancelled, until no child runs or until {@code
   * deadline} on {@code timer} (null: no limit); an interrupt is restored afterwards. Returns
   * whether the list is empty.
   */
  boolean awaitEmpty(Timer timer, long deadline, Object blocker) {
    boolean interrupted = false;
    Thread me = Thread.currentThread();
    Timer.Alarm alarm = timer == null ? null : timer.alarm(deadline);
    try {
      while (true) {
        synchronized (this) {
          if (running == 0) return true;
          if (waiters == null) waiters = new java.util.ArrayList<>(2);
          if (!waiters.contains(me)) waiters.add(me);
        }
        if (alarm != null && alarm.fired()) return running() == 0;
        LockSupport.park(blocker);
        if (Thread.interrupted()) interrupted = true;
      }
    } finally {
      if (alarm != null) timer.cancel(alarm);
      synchronized (this) {
        if (waiters != null) waiters.remove(me);
      }
      if (interrupted) me.interrupt();
    }
  }

  /** Registers the calling thread to be woken when the list becomes empty. */
  synchronized void addWaiter(Thread t) {
    if (waiters == null) waiters = new java.util.ArrayList<>(2);
    waiters.add(t);
  }

  synchronized void removeWaiter(Thread t) {
    if (waiters != null) waiters.remove(t);
  }

  /**
   * Tells each running, unshielded child to check for cancellation; pushes the scopes nested inside
   * children, which the cancellation walk must visit next. The children are copied under the lock
   * and told outside it, so that children ending meanwhile (and removing themselves) do not queue
   * up on the lock while thousands of threads are interrupted.
   */
  void deliverCancellation(ArrayDeque<ScopeNode> todo) {
    TaskImpl<?>[] now;
    synchronized (this) {
      now = new TaskImpl<?>[running];
      int i = 0;
      for (TaskImpl<?> t = head; t != null && i < now.length; t = t.next) now[i++] = t;
    }
    for (TaskImpl<?> t : now) {
      if (t == null || t.shield) continue;
      ThreadFrame f = t.frame;
      if (f != null) f.interruptIfCancelled();
      ScopeNode in = t.inner;
      if (in != null && !in.shield) todo.push(in);
    }
  }
}
