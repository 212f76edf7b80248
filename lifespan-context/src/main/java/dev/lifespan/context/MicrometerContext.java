package dev.lifespan.context;

import dev.lifespan.ContextPropagator;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import java.util.Map;
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
 * thread, for its value ({@link io.micrometer.context.ThreadLocalAccessor#getValue()}); the values
 * that are not null make a {@link ContextSnapshot}. On the task's thread, before its body, the
 * snapshot's {@link ContextSnapshot#setThreadLocals()} sets them, keeping what the thread had;
 * after the body (returned, failed or cancelled) closing the returned scope restores that, so a new
 * thread ends with no value (an MDC that the body filled is cleared too). An accessor for which the
 * spawning thread had no value leaves the task's thread as it is. Accessors are read from the
 * registry at each spawn, so ones registered later apply to tasks spawned later. A spawn from a
 * thread where every accessor returns null carries nothing and costs one read of each accessor.
 *
 * <h2>Exceptions</h2>
 *
 * As in {@link ContextPropagator}: an accessor whose {@code getValue} throws makes the spawn throw;
 * one whose {@code setValue} throws fails the task before its body; one whose {@code restore}
 * throws is logged as a warning, and the task's outcome is unchanged.
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
    ContextSnapshotFactory factory =
        ContextSnapshotFactory.builder().contextRegistry(registry).build();
    return new Propagator(factory, registry);
  }

  private record Propagator(ContextSnapshotFactory factory, ContextRegistry registry)
      implements ContextPropagator {
    @Override
    public Snapshot capture() {
      ContextSnapshot captured = factory.captureAll();
      // The factory's snapshots are maps of the captured values: an empty one carries nothing.
      if (captured instanceof Map<?, ?> values && values.isEmpty()) return null;
      return () -> {
        ContextSnapshot.Scope scope = captured.setThreadLocals(); // on the task's thread
        return scope::close; // after its body
      };
    }

    @Override
    public String toString() {
      return "MicrometerContext.propagator(" + registry + ")";
    }
  }
}
