package dev.lifespan.internal;

import dev.lifespan.Supervisor;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * One running application, as its threads see it: the values of its {@code LifespanLocal}s and its
 * background supervisor.
 *
 * <p>A thread belongs to an application while {@link #CURRENT} is bound to it, or, on a task's
 * thread where it is not bound, to the application of the task's owner ({@link TaskOwner#context},
 * captured when the owner was created), so the context follows the structure of the program rather
 * than the thread that happened to spawn. The application runner binds it on its own thread; {@code
 * LifespanLocal.wrap} binds it for code handed to foreign executors.
 *
 * <p>Values live until the application ended; then they are dropped, and reads fail.
 */
public final class AppContext {
  /** The application the calling thread belongs to. */
  public static final ScopedValue<AppContext> CURRENT = ScopedValue.newInstance();

  private final String name;
  private final ConcurrentHashMap<Object, Object> values = new ConcurrentHashMap<>();
  private volatile boolean ended;

  /** The public handle of the application ({@code App}); set before its runner starts. */
  public volatile Object handle;

  /** The background supervisor of {@code Supervisor.fireAndForget}; set once it is open. */
  volatile Supervisor background;

  /**
   * Reports of the application's supervisors whose shutdown left stragglers or abandoned
   * must-finish work, wherever they were opened (a supervisor in the main body, one inside a task),
   * and the stragglers themselves: the runner counts the reports in its outcome and does not end
   * before the stragglers have ended or its hard deadline has cancelled them.
   */
  final java.util.List<dev.lifespan.ShutdownReport> uncleanReports =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  final java.util.List<TaskImpl<?>> stragglers = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** The application's own context propagators; see {@link Propagation}. */
  final dev.lifespan.ContextPropagator[] propagators;

  /**
   * The application's own observers; see {@link Observers}. Counted in {@link Observers#active}
   * from {@link #AppContext creation} until {@link #end()}.
   */
  final Observers.Observed[] observers;

  public AppContext(
      String name,
      java.util.List<dev.lifespan.ContextPropagator> propagators,
      java.util.List<dev.lifespan.LifespanObserver> observers) {
    this.name = name;
    this.propagators = Propagation.of(propagators);
    this.observers = Observers.of(observers);
    Observers.appCounted(this.observers, 1);
  }

  /** The application the calling thread belongs to, or null. */
  public static AppContext current() {
    AppContext c = CURRENT.orElse(NONE); // orElse takes no null
    if (c != NONE) return c;
    TaskImpl<?> t = ThreadFrame.currentTask();
    return t == null ? null : t.owner().context;
  }

  private static final AppContext NONE =
      new AppContext("(none)", java.util.List.of(), java.util.List.of());

  public String name() {
    return name;
  }

  public boolean ended() {
    return ended;
  }

  /** The application has ended: drops every value; later reads fail. */
  public void end() {
    synchronized (this) {
      if (ended) return;
      ended = true;
    }
    Observers.appCounted(observers, -1);
    values.clear();
  }

  /** The value of {@code key}, computing it with {@code initial} (if non-null) when absent. */
  public Object get(Object key, Supplier<?> initial) {
    Object v = values.get(key);
    if (v == null && initial != null) {
      v = values.computeIfAbsent(key, k -> initial.get());
    }
    return ended ? null : v;
  }

  public void set(Object key, Object value) {
    values.put(key, value);
  }

  public void remove(Object key) {
    values.remove(key);
  }

  @Override
  public String toString() {
    return "AppContext[" + name + (ended ? ", ended" : "") + "]";
  }
}
