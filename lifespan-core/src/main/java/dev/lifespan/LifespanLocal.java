package dev.lifespan;

import dev.lifespan.internal.AppContext;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * A variable whose value belongs to one running application: shared by every task and request of
 * that application, invisible to any other application in the same JVM (tests, several instances
 * side by side). It replaces the {@code static} field that holds a connection pool or a cache and
 * leaks between application instances.
 *
 * {@snippet :
 * static final LifespanLocal<DataSource> DB = LifespanLocal.named("db");
 *
 * Lifespan database = Lifespan.named("database", ctx -> {
 *     try (var pool = Pool.open(url)) {
 *         DB.set(pool);          // for this application only
 *         ctx.proceed();         // every task of the application reads DB.get()
 *     }
 * });
 * }
 *
 * <h2>Which application</h2>
 *
 * A thread belongs to an application while it runs the application's code: the lifespan layers and
 * the main body that {@link App} runs, every task spawned through the library below them (task
 * groups, supervisors, {@link Supervisor#fireAndForget}), and code wrapped with {@link
 * #wrap(Runnable)} and its overloads for executors the library does not own ({@code
 * CompletableFuture.supplyAsync}, third-party pools). A task belongs to the application of the
 * group or supervisor it runs in, whichever thread spawned it.
 *
 * <h2>Errors</h2>
 *
 * {@link #get()} throws {@link IllegalStateException} naming the variable and the reason: the
 * thread belongs to no application, the application has ended, or the variable has no value in it
 * (and no initial value). {@link #set} outside an application or after it ended throws likewise.
 * Values are dropped when the application ends, so nothing it held stays reachable from here.
 *
 * <h2>Threads</h2>
 *
 * Reads and writes are safe from any thread of the application; a write is visible to reads that
 * happen after it. Values are never {@code null}. An initial value ({@link #withInitial}) is
 * computed at most once per application, on the first read, by the reading thread.
 *
 * @param <T> the type of the value
 */
public final class LifespanLocal<T> {
  private final String name;
  private final Supplier<? extends T> initial; // null: none

  private LifespanLocal(String name, Supplier<? extends T> initial) {
    this.name = Objects.requireNonNull(name, "name");
    this.initial = initial;
  }

  /** A variable called {@code name} (for error messages), with no initial value. */
  public static <T> LifespanLocal<T> named(String name) {
    return new LifespanLocal<>(name, null);
  }

  /**
   * A variable called {@code name} whose value in each application is computed by {@code initial}
   * on its first read there, unless it was set before.
   */
  public static <T> LifespanLocal<T> withInitial(String name, Supplier<? extends T> initial) {
    Objects.requireNonNull(initial, "initial");
    return new LifespanLocal<>(name, initial);
  }

  /** The variable's name. */
  public String name() {
    return name;
  }

  /**
   * The value in the calling thread's application.
   *
   * @throws IllegalStateException outside any application, after it ended, or if the variable has
   *     no value there; the message names the variable and the application
   */
  @SuppressWarnings("unchecked")
  public T get() {
    AppContext c = context("read");
    Object v = c.get(this, initial);
    if (v == null) {
      if (c.ended()) throw ended(c, "read");
      throw new IllegalStateException(
          "LifespanLocal '" + name + "' has no value in application '" + c.name() + "'");
    }
    return (T) v;
  }

  /**
   * Sets the value in the calling thread's application, for all its threads.
   *
   * @throws NullPointerException if {@code value} is null
   * @throws IllegalStateException outside any application or after it ended
   */
  public void set(T value) {
    Objects.requireNonNull(value, () -> "value of LifespanLocal '" + name + "'");
    AppContext c = context("set");
    c.set(this, value);
    if (c.ended()) {
      c.remove(this);
      throw ended(c, "set");
    }
  }

  /**
   * Removes the value from the calling thread's application; a later read computes the initial
   * value again, if there is one.
   *
   * @throws IllegalStateException outside any application or after it ended
   */
  public void remove() {
    context("removed").remove(this);
  }

  /**
   * Whether the calling thread belongs to a running application in which this variable has a value
   * (an initial value counts only once computed). Never throws.
   */
  public boolean isSet() {
    AppContext c = AppContext.current();
    return c != null && !c.ended() && c.get(this, null) != null;
  }

  private AppContext context(String what) {
    AppContext c = AppContext.current();
    if (c == null) {
      throw new IllegalStateException(
          "LifespanLocal '"
              + name
              + "' "
              + what
              + " outside any running application (on thread '"
              + Thread.currentThread().getName()
              + "'); tasks spawned through the library carry it, other threads need"
              + " LifespanLocal.wrap");
    }
    if (c.ended()) throw ended(c, what);
    return c;
  }

  private IllegalStateException ended(AppContext c, String what) {
    return new IllegalStateException(
        "LifespanLocal '" + name + "' " + what + " after application '" + c.name() + "' ended");
  }

  @Override
  public String toString() {
    return "LifespanLocal[" + name + "]";
  }

  // ---- carrying the application into foreign executors

  /**
   * {@code body}, made to run in the calling thread's application on whatever thread runs it: its
   * {@code LifespanLocal}s resolve and {@link Supervisor#fireAndForget} lands in that application's
   * background supervisor. Wrapping does not make the body a task: the application does not wait
   * for it and its cancellation does not reach it.
   *
   * @throws IllegalStateException if the calling thread belongs to no application
   */
  public static Runnable wrap(Runnable body) {
    Objects.requireNonNull(body, "body");
    AppContext c = captured("wrap a Runnable");
    return () -> ScopedValue.where(AppContext.CURRENT, c).run(body);
  }

  /** {@link #wrap(Runnable)} for a {@link Callable}. */
  public static <V> Callable<V> wrap(Callable<V> body) {
    Objects.requireNonNull(body, "body");
    AppContext c = captured("wrap a Callable");
    return () -> ScopedValue.where(AppContext.CURRENT, c).call(body::call);
  }

  /**
   * {@link #wrap(Runnable)} for a {@link Supplier}, as {@code CompletableFuture.supplyAsync} takes.
   */
  public static <V> Supplier<V> wrapSupplier(Supplier<V> body) {
    Objects.requireNonNull(body, "body");
    AppContext c = captured("wrap a Supplier");
    return () -> ScopedValue.where(AppContext.CURRENT, c).call(body::get);
  }

  /**
   * An executor that runs each command in the application of the thread that submitted it (or in
   * none, if that thread belongs to none), on {@code executor}.
   */
  public static Executor wrap(Executor executor) {
    Objects.requireNonNull(executor, "executor");
    return command -> {
      Objects.requireNonNull(command, "command");
      AppContext c = AppContext.current();
      executor.execute(
          c == null ? command : () -> ScopedValue.where(AppContext.CURRENT, c).run(command));
    };
  }

  private static AppContext captured(String what) {
    AppContext c = AppContext.current();
    if (c == null) {
      throw new IllegalStateException(
          "LifespanLocal cannot "
              + what
              + " on thread '"
              + Thread.currentThread().getName()
              + "': it belongs to no running application");
    }
    return c;
  }
}
