package dev.lifespan.context;

import io.micrometer.context.ThreadLocalAccessor;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;

/**
 * A Micrometer {@link ThreadLocalAccessor} for OpenTelemetry's current {@link Context} (the current
 * span, baggage, and any other value kept in it), so that {@link MicrometerContext} carries traces
 * into tasks: a span started in a task is a child of the span that was current where the task was
 * spawned.
 *
 * {@snippet :
 * ContextRegistry.getInstance().registerThreadLocalAccessor(new OpenTelemetryContextAccessor());
 * }
 *
 * <p>Setting a value makes it current ({@link Context#makeCurrent()}) and keeps the returned {@link
 * Scope}; restoring closes that scope, which makes current again what was current before. Sets and
 * restores on one thread nest, as Micrometer's snapshots call them: each restore closes the scope
 * of the latest set not yet restored on that thread.
 *
 * <p>{@link #getValue()} returns null while the current context is {@link Context#root()}, so a
 * spawn from a thread with no span carries nothing for OpenTelemetry.
 *
 * <p>It needs {@code io.opentelemetry:opentelemetry-context} (which {@code opentelemetry-api}
 * brings) at run time; {@code lifespan-context} depends on it optionally. Neither Micrometer's
 * context-propagation nor OpenTelemetry ships an accessor for {@code Context} itself (Micrometer
 * Tracing's span accessor needs a Micrometer {@code Tracer} and carries the span alone, without the
 * rest of the context).
 */
public final class OpenTelemetryContextAccessor implements ThreadLocalAccessor<Context> {
  /** The key this accessor is registered under in a {@code ContextRegistry}. */
  public static final String KEY = "otel.context";

  /** The scopes opened by {@link #setValue} on this thread and not restored yet, latest first. */
  private static final ThreadLocal<Opened> OPENED = new ThreadLocal<>();

  private record Opened(Scope scope, Opened outer) {}

  /** An accessor; all instances share the per-thread scopes, so any one restores another's set. */
  public OpenTelemetryContextAccessor() {}

  @Override
  public Object key() {
    return KEY;
  }

  /** The current context, or null if it is the root context. */
  @Override
  public Context getValue() {
    Context current = Context.current();
    return current == Context.root() ? null : current;
  }

  /** Makes {@code value} current until the matching restore. */
  @Override
  public void setValue(Context value) {
    OPENED.set(new Opened(value.makeCurrent(), OPENED.get()));
  }

  /** Makes the root context current until the matching restore. */
  @Override
  public void setValue() {
    setValue(Context.root());
  }

  /**
   * Closes the scope of the latest set on this thread, making current what was current before it.
   *
   * @throws IllegalStateException if nothing was set on this thread
   */
  @Override
  public void restore(Context previousValue) {
    restore();
  }

  /**
   * Closes the scope of the latest set on this thread, making current what was current before it.
   *
   * @throws IllegalStateException if nothing was set on this thread
   */
  @Override
  public void restore() {
    Opened latest = OPENED.get();
    if (latest == null) {
      throw new IllegalStateException(
          "OpenTelemetry context restored on thread '"
              + Thread.currentThread().getName()
              + "' with no setValue before it");
    }
    if (latest.outer == null) OPENED.remove();
    else OPENED.set(latest.outer);
    latest.scope.close();
  }

  @Override
  public String toString() {
    return "OpenTelemetryContextAccessor[" + KEY + "]";
  }
}
