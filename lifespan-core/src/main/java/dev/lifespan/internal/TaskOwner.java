package dev.lifespan.internal;

import java.util.concurrent.ThreadFactory;

/**
 * What task groups and supervisors share: a scope that tasks run under, the list of its running
 * children, and how a child is spawned onto its own thread.
 */
public abstract sealed class TaskOwner extends ScopeNode permits GroupImpl, SupervisorImpl {
  private static final ThreadFactory VIRTUAL = Thread.ofVirtual().factory();

  final ThreadFactory factory; // null: virtual threads
  final ChildList children = new ChildList();

  /** {@link System#nanoTime()} at creation, for the owner's age in dumps. */
  final long createdAt = System.nanoTime();

  /**
   * Whether no owner and no application encloses this one, so that {@link Roots} lists it; see
   * there.
   */
  final boolean topLevel;

  /** The application this owner's tasks belong to, or null; see {@link AppContext}. */
  final AppContext context;

  TaskOwner(String name, ScopeNode parent, Timer timer, ThreadFactory factory, AppContext context) {
    super(name, parent, false, timer);
    this.factory = factory;
    this.context = context;
    ScopeNode s = parent, last = null;
    while (s != null && !(s instanceof TaskOwner)) {
      last = s;
      s = s.parent;
    }
    this.topLevel = s == null && (last == null || !RoleScope.isAppRoot(last));
  }

  /** What observers are told this owner is; made on first use (a benign race: it is a value). */
  private dev.lifespan.LifespanObserver.Owner observedAs;

  /** This owner as {@link dev.lifespan.LifespanObserver}s see it. */
  final dev.lifespan.LifespanObserver.Owner observedAs() {
    dev.lifespan.LifespanObserver.Owner o = observedAs;
    if (o == null) {
      o =
          new dev.lifespan.LifespanObserver.Owner(
              context == null ? null : context.name(),
              this instanceof SupervisorImpl
                  ? dev.lifespan.LifespanObserver.Owner.Kind.SUPERVISOR
                  : dev.lifespan.LifespanObserver.Owner.Kind.TASK_GROUP,
              name());
      observedAs = o;
    }
    return o;
  }

  /** Called by each child as it ends; {@code failure} is non-null if it failed. */
  abstract void childEnded(TaskImpl<?> t, Throwable failure);

  /**
   * The child {@code t} is ending with {@code failure}, before its outcome is published: a
   * fail-fast owner records the failure and cancels itself here, so that whoever sees the child
   * failed also sees the owner cancelled (a sibling joining it gets the cancellation, and the
   * failure is reported once, by the owner).
   */
  void childFailing(TaskImpl<?> t, Throwable failure) {}

  /** A caller took the failure of the ended child {@code t}. */
  void failureTaken(TaskImpl<?> t) {}

  /** The exception for a spawn into this owner after it stopped taking children. */
  abstract RuntimeException refused(String taskName);

  /**
   * Spawns a task whose body is a {@link java.util.concurrent.Callable} or a {@link
   * dev.lifespan.CheckedRunnable}, on a new thread.
   */
  final <R> TaskImpl<R> spawnTask(String name, Object body, boolean mustFinish, boolean forked) {
    TaskImpl<R> t =
        new TaskImpl<>(name, this, Propagation.carry(context, body), mustFinish, forked);
    if (!children.add(t, name == null)) throw refused(name == null ? "(unnamed)" : name);
    try {
      Thread th = (factory == null ? VIRTUAL : factory).newThread(t);
      if (th == null) {
        throw new IllegalStateException("ThreadFactory returned null for task '" + t.name() + "'");
      }
      if (factory != null && th.getState() != Thread.State.NEW) {
        // binding would take the handler slot of a thread that runs something else
        throw new IllegalStateException(
            "ThreadFactory returned a thread that was already started, for task '"
                + t.name()
                + "'");
      }
      if (factory == null && name != null) th.setName(name); // unnamed task: unnamed thread
      t.bind(th);
      th.start();
    } catch (Throwable e) {
      t.notStarted(e);
      children.remove(t, null);
      throw e;
    }
    return t;
  }

  /** The scopes nested and opened in this owner, then its running tasks, newest first. */
  @Override
  final void forEachChild(java.util.function.Consumer<ScopeNode> action) {
    super.forEachChild(action);
    children.forEach(action);
  }
}
