package dev.lifespan.context;

import dev.lifespan.ContextPropagator;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ThreadLocalAccessor;
import java.util.List;
import java.util.Objects;

/**
 * Carries every thread-local value known to a Micrometer {@link ContextRegistry} into Lifespan's
 * tasks: SLF4J's MDC, OpenTelemetry's {@code Context}, Micrometer's {@code Observation}, and
 * anything else a {@link io.micrometer.context.ThreadLocalAccessor} is registered for.
 *
 * {@snippet :
 * ContextRegistry.getInstance()
 *     .registerThreadLocalAccessor(new Slf4jThreadLocalAccessor())        // the whole MDC
 *     .registerThreadLocalAccessor(new OpenTelemetryContextAccessor());   // the current span
 * App.runAndExit(
 *     App.Options.named("orders").withContextPropagator(MicrometerContext.propagator()),
 *     layers, main);
 * }
 *
 * <p>Or for every task of the process, in an application or outside one: {@code
 * ContextPropagator.register(MicrometerContext.propagator())}. See {@link ContextPropagator} for
 * where context is carried (every task the library spawns, the request handlers of {@code
 * lifespan-http} included) and for the order of several propagators.
 *
 * <h2>What is carried</h2>
 *
 * When a task is spawned, the propagator asks each accessor of the registry, on the spawning
 * thread, for its value ({@link io.micrometer.context.ThreadLocalAccessor#getValue()}), and keeps
 * those that are not null. On the task's thread, before its body, it sets each of them ({@code
 * setValue}), keeping what the thread had ({@code getValue}); after the body (returned, failed or
 * cancelled) it puts that back, in reverse order ({@code restore(previous)}, or {@code restore()}
 * where the thread had nothing), so a new thread ends with no value (an MDC that the body filled is
 * cleared too). These are the calls, in the order, that a {@link
 * io.micrometer.context.ContextSnapshot} makes in {@code setThreadLocals()} and in closing its
 * scope. An accessor for which the spawning thread had no value leaves the task's thread as it is.
 * Accessors are read from the registry at each spawn, so ones registered later apply to tasks
 * spawned later. A spawn from a thread where every accessor returns null carries nothing and costs
 * one read of each accessor.
 *
 * <h2>Exceptions</h2>
 *
 * As in {@link ContextPropagator}: an accessor whose {@code getValue} throws on the spawning thread
 * makes the spawn throw. One whose {@code getValue} or {@code setValue} throws on the task's thread
 * fails the task before its body, with the values set before it put back. One whose {@code restore}
 * throws does not keep the others from being restored; the first such exception (with the others
 * suppressed) is logged as a warning, and the task's outcome is unchanged.
 */
public final class MicrometerContext {
  private MicrometerContext() {}

  /**
   * A propagator of every accessor in {@link ContextRegistry#getInstance()}, the registry that
   * Micrometer, Reactor and Spring share (it also holds the accessors that {@link
   * java.util.ServiceLoader} finds).
   */
  public static ContextPropagator propagator() {
    return propagator(ContextRegistry.getInstance());
  }

  /**
   * A propagator of every accessor in {@code registry}.
   *
   * @throws NullPointerException if {@code registry} is null
   */
  public static ContextPropagator propagator(ContextRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    return new Propagator(registry);
  }

  /**
   * Captures and restores as a {@code ContextSnapshot} of the registry's thread-local accessors
   * does ({@code ContextSnapshotFactory.captureAll()}, {@code setThreadLocals()}, closing the
   * scope), with arrays where the snapshot and its scope keep hash maps: that was most of what
   * carrying cost beyond copying by hand (BENCHMARKS.md, section 11).
   */
  private record Propagator(ContextRegistry registry) implements ContextPropagator {
    @Override
    public Snapshot capture() {
      List<ThreadLocalAccessor<?>> accessors = registry.getThreadLocalAccessors();
      ThreadLocalAccessor<?>[] which = null;
      Object[] values = null;
      int n = 0;
      for (int i = 0, size = accessors.size(); i < size; i++) {
        ThreadLocalAccessor<?> accessor = accessors.get(i);
        Object value = accessor.getValue();
        if (value == null) continue;
        if (which == null) {
          which = new ThreadLocalAccessor<?>[size - i];
          values = new Object[size - i];
        }
        which[n] = accessor;
        values[n++] = value;
      }
      return n == 0 ? null : new Captured(which, values, n);
    }

    @Override
    public String toString() {
      return "MicrometerContext.propagator(" + registry + ")";
    }
  }

  /** Values captured on a spawning thread, with their accessors, set in order on the task's. */
  private record Captured(ThreadLocalAccessor<?>[] which, Object[] values, int n)
      implements ContextPropagator.Snapshot {
    @Override
    public ContextPropagator.Restored restore() {
      Object[] previous = new Object[n];
      int set = 0;
      try {
        for (; set < n; set++) {
          previous[set] = which[set].getValue();
          setValue(which[set], values[set]);
        }
      } catch (Throwable t) {
        try {
          undo(set, previous); // what was set before the failure
        } catch (Throwable u) {
          t.addSuppressed(u);
        }
        throw t;
      }
      return () -> undo(n, previous);
    }

    /** Restores the first {@code count} accessors, last first, as a snapshot's scope does. */
    private void undo(int count, Object[] previous) {
      Throwable failed = null;
      for (int i = count - 1; i >= 0; i--) {
        try {
          if (previous[i] == null) which[i].restore();
          else restore(which[i], previous[i]);
        } catch (Throwable t) {
          if (failed == null) failed = t;
          else failed.addSuppressed(t);
        }
      }
      if (failed instanceof RuntimeException e) throw e;
      if (failed instanceof Error e) throw e;
    }

    @SuppressWarnings("unchecked")
    private static <V> void setValue(ThreadLocalAccessor<V> accessor, Object value) {
      accessor.setValue((V) value);
    }

    @SuppressWarnings("unchecked")
    private static <V> void restore(ThreadLocalAccessor<V> accessor, Object previous) {
      accessor.restore((V) previous);
    }
  }
}
