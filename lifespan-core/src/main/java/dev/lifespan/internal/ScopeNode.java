package dev.lifespan.internal;

import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Objects;

/**
 * The implementation of {@link CancelScope}, and the base of task groups and tasks (a group is the
 * scope its body and children run under; a task is the root scope of its thread).
 *
 * <p>Scopes form a tree through {@link #parent}: nested scopes on one thread, and the root scope of
 * each task under the scope of its group. Cancellation walks the tree downwards through {@link
 * #inner} and each group's children, not crossing shields, and asks each thread it reaches to check
 * its own innermost scope ({@link ThreadFrame#interruptIfCancelled}).
 *
 * <p>States: {@code NEW -> OPEN -> CLOSED}. Only the owner thread enters and exits.
 */
public sealed class ScopeNode extends ScopeDeadline implements CancelScope
    permits TaskOwner, TaskImpl, RoleScope {
  private static final VarHandle REASON, STATE, FRAME;

  static {
    try {
      var l = MethodHandles.lookup();
      REASON = l.findVarHandle(ScopeNode.class, "reason", CancelReason.class);
      FRAME = l.findVarHandle(ScopeNode.class, "frame", ThreadFrame.class);
      STATE = l.findVarHandle(ScopeNode.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String name;
  final ScopeNode parent;
  final boolean shield;

  /**
   * Whether this is a task's root scope: entered once by construction, parent on another thread.
   */
  private final boolean taskRoot;

  /** Owner thread's frame; set once on entry. */
  volatile ThreadFrame frame;

  /** The scope nested directly in this one on the owner thread, or null. */
  volatile ScopeNode inner;

  /** Non-null once cancelled; the first reason wins. */
  private volatile CancelReason reason;

  private volatile boolean cancelledCaught;

  /**
   * Whether cancellation reaches the code inside this scope, and inside tasks below it, without
   * {@link Thread#interrupt}: by hooks, checkpoints and waking library waits. Set by the opener
   * before entry.
   */
  boolean interruptFree;

  /** Whether {@code s} or a scope above it, across tasks, was opened without interrupts. */
  static boolean interruptFree(ScopeNode s) {
    for (; s != null; s = s.parent) {
      if (s.interruptFree) return true;
    }
    return false;
  }

  /** Cancellation hooks not yet closed, in order of registration; see {@link CancelHook}. */
  volatile CancelHook[] hooks;

  /** Supervisors opened (not run) inside this scope and not yet shut down; copy-on-write. */
  private volatile ScopeNode[] attached;

  private static final Object ATTACH_LOCK = new Object();

  /**
   * Set by {@link #forceCancel}: shields opened below this scope from then on are born cancelled.
   */
  private volatile boolean forced;

  public ScopeNode(String name, ScopeNode parent, boolean shield, Timer timer) {
    this(name, parent, shield, timer, false);
  }

  /** See {@link #taskRoot}; a task root must be its own {@link ThreadFrame}. */
  ScopeNode(String name, ScopeNode parent, boolean shield, Timer timer, boolean taskRoot) {
    super(timer);
    this.name = name;
    this.parent = parent;
    this.shield = shield;
    this.taskRoot = taskRoot;
    if (taskRoot) {
      // A task's root scope is open from birth and its frame is the task: cancellers that reach it
      // before its thread runs find no innermost scope yet and leave it to the task's own check.
      STATE.setRelease(this, OPEN);
      FRAME.setRelease(this, (ThreadFrame) this);
    }
  }

  // ---- CancelScope

  @Override
  public String name() {
    return name != null ? name : generatedName();
  }

  /** The name of a scope opened without one. */
  String generatedName() {
    return "scope@" + Integer.toHexString(System.identityHashCode(this));
  }

  @Override
  public void cancel() {
    cancel(CancelReason.CANCELLED);
  }

  @Override
  public void cancel(String reason) {
    Objects.requireNonNull(reason, "reason");
    cancel(new CancelReason(reason, false));
  }

  @Override
  public boolean isCancelCalled() {
    return reason != null;
  }

  @Override
  public boolean isCancelledCaught() {
    return cancelledCaught;
  }

  @Override
  public boolean isShielded() {
    return shield;
  }

  @Override
  public String toString() {
    String s = state == NEW ? "NEW" : state == OPEN ? "OPEN" : "CLOSED";
    CancelReason r = reason;
    return kind()
        + "["
        + name()
        + ", "
        + s
        + (r != null ? ", cancelled: " + r.message() : "")
        + "]";
  }

  String kind() {
    return "CancelScope";
  }

  // ---- ScopeDeadline

  /** Called by the timer, without locks, once the deadline has passed. */
  @Override
  final void deadlinePassed() {
    cancel(CancelReason.DEADLINE);
  }

  @Override
  final String describe() {
    return kind() + " '" + name() + "'";
  }

  /** Whether the cancellation this scope absorbed came from its deadline. */
  public final boolean wasCancelledByDeadline() {
    return cancelledCaught && cancelledByDeadline();
  }

  // ---- cancellation

  /** The nearest cancelled scope at or above {@code s}, not looking past a shield, or null. */
  static ScopeNode cancelledFrom(ScopeNode s) {
    for (; s != null; s = s.parent) {
      if (s.reason != null) return s;
      if (s.shield) return null;
    }
    return null;
  }

  final boolean cancel(CancelReason r) {
    if (!REASON.compareAndSet(this, null, r)) return false;
    Events.scopeCancelled(this, r);
    if (!shield && parent != null && cancelledFrom(parent) != null) return true; // already told
    deliver();
    return true;
  }

  /**
   * Runs the cancellation hooks of every scope at or below this one, not behind a shield, then
   * tells every thread there to check for cancellation; on the cancelling thread, with no lock
   * held. Hooks come first: a thread woken by its interrupt could otherwise leave a scope below
   * before the walk reached it, and its hooks would never run although the cancellation reached the
   * scope while it was open.
   */
  void deliver() {
    java.util.ArrayList<ThreadFrame> frames = new java.util.ArrayList<>();
    walk(
        n -> {
          if (n != this && n.shield) return false;
          ThreadFrame f = n.frame;
          if (f != null) frames.add(f);
          if (n.hooks != null && !n.isClosed()) CancelHook.fireAll(n);
          return true;
        });
    for (ThreadFrame f : frames) f.interruptIfCancelled();
  }

  @Override
  public final Registration onCancel(Runnable action) {
    return CancelHook.register(this, action);
  }

  /** Attaches {@code s}, a supervisor opened inside this scope, so cancellation reaches it. */
  final void attach(ScopeNode s) {
    synchronized (ATTACH_LOCK) {
      ScopeNode[] a = attached;
      if (a == null) {
        attached = new ScopeNode[] {s};
      } else {
        ScopeNode[] b = java.util.Arrays.copyOf(a, a.length + 1);
        b[a.length] = s;
        attached = b;
      }
    }
  }

  /** The supervisors attached to this scope now, or null; see {@link #attach}. */
  final ScopeNode[] attached() {
    return attached;
  }

  /** Detaches a supervisor that has shut down. */
  final void detach(ScopeNode s) {
    synchronized (ATTACH_LOCK) {
      ScopeNode[] a = attached;
      if (a == null) return;
      ScopeNode[] b = java.util.Arrays.stream(a).filter(x -> x != s).toArray(ScopeNode[]::new);
      attached = b.length == 0 ? null : b;
    }
  }

  // ---- forcing: cancellation that crosses shields

  private static final CancelReason FORCED = new CancelReason("shutdown forced", false);

  /** Whether a scope above this one was forced; see {@link #forceCancel}. */
  final boolean forcedAbove() {
    for (ScopeNode s = parent; s != null; s = s.parent) {
      if (s.forced) return true;
    }
    return false;
  }

  /**
   * Cancels this scope and every shield at or below it, must-finish tasks included, and makes the
   * shields opened below it later start cancelled: for a forced shutdown, where nothing may keep
   * running. The flag is set before the walk and checked after a shield is linked into the tree, so
   * a shield opened concurrently is either reached by the walk or sees the flag.
   */
  public final void forceCancel(String why) {
    forced = true;
    CancelReason r = new CancelReason(why, false);
    cancel(r);
    walk(
        n -> {
          if (n.shield) n.cancel(r);
          return true;
        });
  }

  /**
   * The grace period of the supervisor that owns this must-finish task ended: cancels this task and
   * every must-finish task running below it, in supervisors nested inside it at any depth, and adds
   * the names of those below it to {@code abandoned}. Nested must-finish work shares the grace of
   * the task it runs in (one budget): it is cut when that grace ends, not given a grace of its own
   * that starts only then. Plain shielded scopes (cleanup) are not cancelled, and the walk does not
   * enter them.
   */
  final void endGrace(String why, java.util.List<String> abandoned) {
    CancelReason r = new CancelReason(why, false);
    walk(
        n -> {
          if (n != this && n.shield && !n.taskRoot) return false; // a shielded cleanup
          if (n.taskRoot && n.shield) {
            if (n != this && n.state != CLOSED) abandoned.add(n.name());
            n.cancel(r);
          }
          return true;
        });
  }

  /**
   * The one walk of the tree: visits every scope at or below this one, each child before its own
   * children, going below a scope only if the visitor returns true for it. The children of a scope
   * are the scope nested in it on its thread, the supervisors opened in it, and, for an owner, the
   * root scopes of its running tasks. Cancellation, forced cancellation, the end of a grace period,
   * shutdown progress and task dumps all walk the tree through here. Takes no lock; a tree that
   * changes meanwhile is seen as {@link ChildList#forEach} describes.
   */
  final void walk(java.util.function.Predicate<ScopeNode> visitor) {
    ArrayDeque<ScopeNode> todo = new ArrayDeque<>();
    java.util.function.Consumer<ScopeNode> push = todo::push;
    todo.push(this);
    while (!todo.isEmpty()) {
      ScopeNode n = todo.pop();
      if (visitor.test(n)) n.forEachChild(push);
    }
  }

  /** Calls {@code action} for each child of this scope; see {@link #walk}. */
  void forEachChild(java.util.function.Consumer<ScopeNode> action) {
    ScopeNode in = inner;
    if (in != null) action.accept(in);
    ScopeNode[] a = attached;
    if (a != null) {
      for (ScopeNode x : a) action.accept(x);
    }
  }

  /** The exception a checkpoint under this (cancelled) scope throws. */
  final CancelledException cancelledException() {
    CancelReason r = reason;
    return new CancelledException(name(), r == null ? "cancelled" : r.message());
  }

  final boolean cancelledByDeadline() {
    CancelReason r = reason;
    return r != null && r.deadline();
  }

  // ---- entry and exit, on the owner thread

  /** Enters this scope on the calling thread. */
  final void enter(ThreadFrame f) {
    if (taskRoot) {
      // The thread's first scope, open and framed since the task was created. The fence orders
      // this write before the task's check for cancellation (TaskImpl.run), as a canceller's
      // write of the reason comes before its read of the innermost scope: one sees the other.
      f.innermost(this);
      VarHandle.fullFence();
    } else {
      if (!STATE.compareAndSet(this, NEW, OPEN)) {
        throw new IllegalStateException(
            kind() + " '" + name() + "' was already entered; a scope is entered once");
      }
      boolean nested = parent != null && parent.frame == f;
      synchronized (f) {
        frame = f;
        if (nested) parent.inner = this;
        f.innermost(this);
        if (shield && f.cancelInterrupted()) {
          f.cancelInterrupted(false);
          Thread.interrupted();
        }
      }
    }
    armAtEntry();
    if (shield && reason == null && forcedAbove()) cancel(FORCED);
    if (taskRoot) return; // a task checks before its body runs, and runs no body if cancelled
    if (reason != null || (!shield && parent != null && cancelledFrom(parent) != null)) {
      f.interruptIfCancelled();
    }
  }

  /**
   * Leaves this scope on its owner thread after its body ended with {@code thrown} (null if the
   * body returned). Returns true if the scope absorbed its own cancellation, false if the body's
   * result stands; otherwise throws: {@code thrown} unchanged, or, when the body ended normally but
   * a cancellation is visible outside this scope, that cancellation.
   */
  final boolean exit(Throwable thrown) {
    ScopeNode after = leave(thrown);
    boolean absorb = cancelledCaught;
    if (after != null) {
      frame.reassertInterrupt();
      if (thrown != null && !absorb) throw Exceptions.sneaky(thrown);
      throw after.cancelledException();
    }
    if (thrown != null && !absorb) throw Exceptions.sneaky(thrown);
    return absorb;
  }

  /**
   * The bookkeeping of leaving this scope on its owner thread: stops its deadline, makes the
   * enclosing scope current, absorbs {@code thrown} if it is this scope's own cancellation (see
   * {@link #isCancelledCaught()}), and clears the interrupt a cancellation caused unless a
   * cancellation stays visible. Returns the cancelled scope visible after leaving, or null.
   */
  final ScopeNode leave(Throwable thrown) {
    ThreadFrame f = frame;
    if (f == null || f.thread() != Thread.currentThread()) {
      throw new IllegalStateException(
          kind() + " '" + name() + "' must be closed by the thread that entered it");
    }
    if (f.innermost() != this) {
      throw new IllegalStateException(
          kind()
              + " '"
              + name()
              + "' closed out of order; innermost open scope is '"
              + (f.innermost() == null ? "none" : f.innermost().name())
              + "'");
    }
    ScopeNode[] open = attached;
    if (open != null) {
      for (ScopeNode x : open) ((SupervisorImpl) x).ownerScopeEnded();
    }
    if (taskRoot) {
      // No fence: a deadline set on the task by another thread while it ends may stay armed until
      // it fires on the closed scope, where it does nothing.
      STATE.setRelease(this, CLOSED);
      if (shard != null) timer.disarm(this);
    } else {
      state = CLOSED;
      if (armed) timer.disarm(this);
    }
    if (hooks != null) CancelHook.closeAll(this); // after the state: see CancelHook
    boolean sameThread = !taskRoot && parent != null && parent.frame == f;
    ScopeNode after = sameThread ? cancelledFrom(parent) : null;
    boolean absorb =
        thrown != null
            && reason != null
            && (shield || cancelledFrom(parent) == null)
            && Exceptions.isCancellation(thrown);
    if (taskRoot) {
      // The task's thread is ending and runs no code of the task any more: a cancellation's
      // interrupt may stay; TaskImpl clears it before a failure handler runs.
      f.innermost(null);
    } else {
      synchronized (f) {
        f.innermost(sameThread ? parent : null);
        if (sameThread) parent.inner = null;
        if (after == null && f.cancelInterrupted()) {
          f.cancelInterrupted(false);
          Thread.interrupted();
        }
      }
    }
    if (absorb) cancelledCaught = true;
    return after;
  }

  /** Runs {@code body} in this new scope on the calling thread; see {@link CancelScope#call}. */
  public final <T, X extends Throwable> T runBody(
      dev.lifespan.ScopedCallable<? super ScopeNode, ? extends T, X> body) throws X {
    enter(frameOfCaller());
    T result = null;
    Throwable thrown = null;
    try {
      result = body.call(this);
    } catch (Throwable t) {
      thrown = t;
    }
    return exit(thrown) ? null : result;
  }

  final ThreadFrame frameOfCaller() {
    ThreadFrame f = ThreadFrame.current();
    if (f.innermost() != parent) {
      throw new IllegalStateException(
          kind() + " '" + name() + "' must be opened where it was created");
    }
    return f;
  }
}
