package dev.lifespan.bench;

import dev.lifespan.ContextPropagator;
import dev.lifespan.context.MicrometerContext;
import dev.lifespan.context.OpenTelemetryContextAccessor;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.slf4j.MDC;

/**
 * The cost of carrying one MDC entry and one OpenTelemetry {@code Context} into a task, without the
 * thread: {@link ContextSpawnBench}'s increments measured alone, on one thread, where the
 * scheduling noise of starting a thread does not drown them.
 *
 * <p>One operation captures on the benchmark's thread (which has the context), leaves the context
 * (as a new thread has none), restores it as the task's thread would, undoes that after an empty
 * body, and enters the context again. {@code leaveAndEnter} does only the leaving and entering: the
 * cost of carrying is each method's time minus that one's.
 *
 * <ul>
 *   <li>{@code micrometer}: {@link MicrometerContext#propagator()}'s {@code capture}, {@code
 *       restore} and undo;
 *   <li>{@code micrometerSnapshots}: the same through Micrometer's {@code ContextSnapshot} ({@code
 *       captureAll}, {@code setThreadLocals}, closing the scope);
 *   <li>{@code byHand}: {@code MDC.getCopyOfContextMap()} and {@code Context.current().wrap(body)}
 *       on the spawner, {@code MDC.setContextMap} and {@code MDC.clear()} around the body.
 * </ul>
 */
@State(org.openjdk.jmh.annotations.Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-preview")
public class ContextCarryBench {
  private static final Runnable NOTHING = () -> {};

  private final Context span =
      Context.root()
          .with(
              Span.wrap(
                  SpanContext.create(
                      "0af7651916cd43dd8448eb211c80319c",
                      "b7ad6b7169203331",
                      TraceFlags.getSampled(),
                      TraceState.getDefault())));
  private Scope current;
  private ContextPropagator micrometer;
  private ContextPropagator snapshots;

  @Setup(Level.Trial)
  public void setUp() {
    ContextRegistry registry =
        new ContextRegistry()
            .registerThreadLocalAccessor(new Slf4jThreadLocalAccessor())
            .registerThreadLocalAccessor(new OpenTelemetryContextAccessor());
    micrometer = MicrometerContext.propagator(registry);
    ContextSnapshotFactory factory =
        ContextSnapshotFactory.builder().contextRegistry(registry).build();
    snapshots =
        () -> {
          ContextSnapshot captured = factory.captureAll();
          return () -> captured.setThreadLocals()::close;
        };
    enter();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    leave();
  }

  private void enter() {
    MDC.put("requestId", "r-42");
    current = span.makeCurrent();
  }

  private void leave() {
    current.close();
    MDC.clear();
  }

  private void carry(ContextPropagator propagator) {
    ContextPropagator.Snapshot captured = propagator.capture(); // on the spawner
    leave(); // as on a new thread
    ContextPropagator.Restored restored = captured.restore();
    try {
      NOTHING.run();
    } finally {
      restored.close();
    }
    enter();
  }

  @Benchmark
  public void leaveAndEnter() {
    leave();
    enter();
  }

  @Benchmark
  public void micrometer() {
    carry(micrometer);
  }

  @Benchmark
  public void micrometerSnapshots() {
    carry(snapshots);
  }

  @Benchmark
  public void byHand() {
    Runnable body = carriedByHand(NOTHING); // on the spawner
    leave(); // as on a new thread
    body.run();
    enter();
  }

  /**
   * {@code body} with the MDC and the OpenTelemetry context of the calling thread, carried the way
   * code without Lifespan does it; the MDC is cleared after the body. The baseline of this bench
   * and of {@link ContextSpawnBench}.
   */
  static Runnable carriedByHand(Runnable body) {
    Map<String, String> mdc = MDC.getCopyOfContextMap();
    return Context.current()
        .wrap(
            () -> {
              if (mdc != null) MDC.setContextMap(mdc);
              try {
                body.run();
              } finally {
                MDC.clear();
              }
            });
  }
}
