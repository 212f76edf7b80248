package dev.lifespan.bench;

import dev.lifespan.ContextPropagator;
import dev.lifespan.TaskGroup;
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
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.slf4j.MDC;

/**
 * Spawn and join of one task that does nothing (and of a batch of 1,000), with and without context
 * carried into it: one MDC entry and one OpenTelemetry {@code Context} (a span) current on the
 * spawning thread.
 *
 * <ul>
 *   <li>{@code lifespanNoPropagator}: {@code TaskGroup.run(g -> g.spawn(body))}, no propagator
 *       registered (the path every application without context propagation takes);
 *   <li>{@code lifespanMicrometer}: the same with {@link MicrometerContext#propagator()} registered
 *       process-wide over a registry of Micrometer's {@link Slf4jThreadLocalAccessor} and {@link
 *       OpenTelemetryContextAccessor};
 *   <li>{@code lifespanMicrometerSnapshots}: the same through Micrometer's {@code ContextSnapshot}s
 *       (how lifespan-context first carried it);
 *   <li>{@code rawVirtualThread}: {@code Thread.ofVirtual().start(body)} and {@code join};
 *   <li>{@code rawVirtualThreadByHand}: the same, carrying both by hand: {@code
 *       MDC.getCopyOfContextMap()} on the spawner, {@code MDC.setContextMap} and {@code
 *       MDC.clear()} around the body, and {@code Context.current().wrap(body)}.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-preview")
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
public class ContextSpawnBench {
  private static final Runnable NOTHING = () -> {};

  /** Tasks per operation: one, or a batch of 1,000 as in SpawnJoinBench. */
  @Param({"1", "1000"})
  public int n;

  /** One MDC entry and one span current on the benchmark's thread, for the whole run. */
  @State(org.openjdk.jmh.annotations.Scope.Thread)
  public static class Carried {
    Scope otel;

    @Setup(Level.Trial)
    public void enter() {
      MDC.put("requestId", "r-42");
      SpanContext span =
          SpanContext.create(
              "0af7651916cd43dd8448eb211c80319c",
              "b7ad6b7169203331",
              TraceFlags.getSampled(),
              TraceState.getDefault());
      otel = Context.root().with(Span.wrap(span)).makeCurrent();
    }

    @TearDown(Level.Trial)
    public void exit() {
      otel.close();
      MDC.clear();
    }
  }

  /** Registers Micrometer's MDC accessor and {@link OpenTelemetryContextAccessor} globally. */
  static void registerAccessors() {
    ContextRegistry.getInstance()
        .registerThreadLocalAccessor(new Slf4jThreadLocalAccessor())
        .registerThreadLocalAccessor(new OpenTelemetryContextAccessor());
  }

  /** Fails the run if a task does not see what the spawner carries. */
  static void check() {
    String[] seen = new String[2];
    TaskGroup.run(
        g ->
            g.spawn(
                () -> {
                  seen[0] = MDC.get("requestId");
                  seen[1] = Span.current().getSpanContext().getSpanId();
                }));
    if (!"r-42".equals(seen[0]) || !"b7ad6b7169203331".equals(seen[1])) {
      throw new IllegalStateException("not carried: " + String.join(", ", seen));
    }
  }

  /** {@link MicrometerContext#propagator()} over MDC and OpenTelemetry, registered process-wide. */
  @State(org.openjdk.jmh.annotations.Scope.Benchmark)
  public static class Registered {
    ContextPropagator.Registration registration;

    @Setup(Level.Trial)
    public void register() {
      registerAccessors();
      registration = ContextPropagator.register(MicrometerContext.propagator());
    }

    @Setup(Level.Iteration)
    public void check(Carried carried) {
      ContextSpawnBench.check();
    }

    @TearDown(Level.Trial)
    public void unregister() {
      registration.close();
    }
  }

  /**
   * The same through Micrometer's own snapshots, as lifespan-context first did it: {@code
   * ContextSnapshotFactory.captureAll()} on the spawner, {@code setThreadLocals()} before the body
   * and closing its scope after.
   */
  @State(org.openjdk.jmh.annotations.Scope.Benchmark)
  public static class RegisteredSnapshots {
    ContextPropagator.Registration registration;

    @Setup(Level.Trial)
    public void register() {
      registerAccessors();
      ContextSnapshotFactory factory =
          ContextSnapshotFactory.builder().contextRegistry(ContextRegistry.getInstance()).build();
      registration =
          ContextPropagator.register(
              () -> {
                ContextSnapshot captured = factory.captureAll();
                return () -> captured.setThreadLocals()::close;
              });
    }

    @Setup(Level.Iteration)
    public void check(Carried carried) {
      ContextSpawnBench.check();
    }

    @TearDown(Level.Trial)
    public void unregister() {
      registration.close();
    }
  }

  @Benchmark
  public void lifespanNoPropagator() {
    TaskGroup.run(
        g -> {
          for (int i = 0; i < n; i++) g.spawn(() -> {});
        });
  }

  @Benchmark
  public void lifespanMicrometer(Carried carried, Registered registered) {
    TaskGroup.run(
        g -> {
          for (int i = 0; i < n; i++) g.spawn(() -> {});
        });
  }

  @Benchmark
  public void lifespanMicrometerSnapshots(Carried carried, RegisteredSnapshots registered) {
    TaskGroup.run(
        g -> {
          for (int i = 0; i < n; i++) g.spawn(() -> {});
        });
  }

  @Benchmark
  public void rawVirtualThread() throws InterruptedException {
    Thread[] threads = new Thread[n];
    for (int i = 0; i < n; i++) threads[i] = Thread.ofVirtual().start(NOTHING);
    for (Thread t : threads) t.join();
  }

  @Benchmark
  public void rawVirtualThreadByHand(Carried carried) throws InterruptedException {
    Thread[] threads = new Thread[n];
    for (int i = 0; i < n; i++) {
      threads[i] = Thread.ofVirtual().start(ContextCarryBench.carriedByHand(NOTHING));
    }
    for (Thread t : threads) t.join();
  }
}
