package dev.lifespan.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

// The fields of ChildList in three groups, each on cache lines of its own: padding goes in classes
// of their own because the JVM lays out a class's fields by size, whatever their order in the
// source.

/** Padding before {@link ChildListSpawnerFields}. */
abstract class ChildListPad0 {
  long p00, p01, p02, p03, p04, p05, p06, p07;
}

/** Written by spawning threads only (one, usually): never by an ending child. */
abstract class ChildListSpawnerFields extends ChildListPad0 {
  volatile long spawned; // children added, plus ChildList.CLOSED once closed
  volatile TaskImpl<?> head; // the newest child; older ones through TaskImpl.next
  volatile int unnamed; // how many unnamed children were added, for their generated names
}

/** Padding between spawner and ender fields. */
abstract class ChildListPad1 extends ChildListSpawnerFields {
  long p10, p11, p12, p13, p14, p15, p16, p17;
}

/** Written by ending children only. */
abstract class ChildListEnderFields extends ChildListPad1 {
  volatile long ended; // children ended, and refused additions
  int dead; // ended children still linked; a hint, updated without atomics
  volatile boolean compacting;
}

/** Padding between ender fields and the read-mostly ones. */
abstract class ChildListPad2 extends ChildListEnderFields {
  long p20, p21, p22, p23, p24, p25, p26, p27;
}

/** Read by every ending child, written rarely. */
abstract class ChildListReadMostly extends ChildListPad2 {
  volatile Thread[] waiters; // threads waiting for the list to empty; copy-on-write
  Throwable failure; // the first failure to report, with later ones suppressed; guarded by this
}

/**
 * The running children of one owner (a task group or a supervisor): two counts, a lock-free list,
 * whether it is closed to new children, and the failure to report.
 *
 * <p>Spawning and ending a child take no lock, and the spawner and the ending children write
 * different cache lines: a spawn adds one to {@link #spawned} and pushes the child on the list, an
 * ending child adds one to {@link #ended}. The children running are {@code spawned - ended}; both
 * only grow, and a reader that reads {@code ended} before {@code spawned} and finds them equal saw
 * the list empty at the moment it read {@code spawned} (a child's end is counted after its spawn).
 * An ended child stays linked, marked by its published outcome, until a later ending child finds
 * that ended children outnumber running ones and unlinks them all in one pass ({@link #compact}),
 * so the list stays within twice the running children plus a constant. Only one thread compacts at
 * a time; it alone changes the links of children already in the list, and spawns change only the
 * head. A child it unlinks points to itself from then on, so a reader standing on it starts again
 * from the head instead of following a stale chain, and a task handle kept by a caller retains no
 * other task.
 *
 * <p>Readers (cancellation, task dumps, shutdown) walk the list without a lock and skip ended
 * children. A spawn pushes the child before the child's thread checks for cancellation, and
 * cancellation marks the scope before it reads the list, so a child is either reached by the walk
 * or sees the cancellation itself. Waiting for the list to empty, the failure and closing are rare
 * and may lock.
 */
final class ChildList extends ChildListReadMostly {
  long p30, p31, p32, p33, p34, p35, p36, p37;

  /** Set in {@link #spawned} once the list refuses new children. */
  static final long CLOSED = 1L << 62;

  /** Ended children tolerated in the list before a compaction, whatever the running count. */
  private static final int SLACK = 64;

  private static final VarHandle SPAWNED, ENDED, HEAD, UNNAMED, COMPACTING;

  static {
    try {
      var l = MethodHandles.lookup();
      SPAWNED = l.findVarHandle(ChildListSpawnerFields.class, "spawned", long.class);
      HEAD = l.findVarHandle(ChildListSpawnerFields.class, "head", TaskImpl.class);
      UNNAMED = l.findVarHandle(ChildListSpawnerFields.class, "unnamed", int.class);
      ENDED = l.findVarHandle(ChildListEnderFields.class, "ended", long.class);
      COMPACTING = l.findVarHandle(ChildListEnderFields.class, "compacting", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Adds a new child, numbering it if it is unnamed; false if the list is closed. */
  boolean add(TaskImpl<?> t, boolean unnamedChild) {
    if (((long) SPAWNED.getAndAdd(this, 1L) & CLOSED) != 0) {
      ended(); // closed: the addition counts as ended at once
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
    if (++dead > SLACK && dead > running() && COMPACTING.compareAndSet(this, false, true)) {
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
    long e = (long) ENDED.getAndAdd(this, 1L) + 1;
    Thread[] w = waiters;
    if (w != null && e == (spawned & ~CLOSED)) {
      for (Thread x : w) LockSupport.unpark(x);
    }
  }

  /** The children running now: reads {@link #ended} first; see the class comment. */
  int running() {
    long e = ended;
    return (int) ((spawned & ~CLOSED) - e);
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

  /** Refuses new children from now on. */
  void close() {
    SPAWNED.getAndBitwiseOr(this, CLOSED);
  }

  /**
   * Owner: waits until no child runs, then closes the list. Does not give up when interrupted or
   * cancelled, so that no child outlives its owner; an interrupt is restored afterwards.
   */
  void awaitEmptyAndClose(Object blocker) {
    while (true) {
      awaitEmpty(null, 0, blocker);
      long s = spawned;
      if (s == ended && SPAWNED.compareAndSet(this, s, s | CLOSED)) return;
      // a spawn from outside came in between
    }
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
