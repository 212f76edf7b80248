package dev.lifespan.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.ContextPropagator;
import dev.lifespan.Lifespan;
import dev.lifespan.Supervisor;
import dev.lifespan.TaskGroup;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * OpenTelemetry's current {@link Context}, through {@link OpenTelemetryContextAccessor} and {@link
 * MicrometerContext}, seen by the real SDK: spans started in tasks are children of the span that
 * was current where the task was spawned.
 */
class OpenTelemetryPropagationTest {
  private static final Duration WAIT = Duration.ofSeconds(30); // bounded waits; never reached

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final SdkTracerProvider provider =
      SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
  private final Tracer tracer = provider.get("lifespan-context-test");

  /** A registry of this test's own: OpenTelemetry only. */
  private final ContextRegistry otelOnly =
      new ContextRegistry().registerThreadLocalAccessor(new OpenTelemetryContextAccessor());

  @AfterEach
  void close() {
    provider.close();
    MDC.clear();
  }

  private SpanData finished(String name) {
    return exporter.getFinishedSpanItems().stream()
        .filter(s -> s.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no span " + name + " in " + exporter));
  }

  private void assertChild(String parent, String child) {
    SpanData p = finished(parent);
    SpanData c = finished(child);
    assertEquals(p.getSpanId(), c.getParentSpanId(), child + "'s parent");
    assertEquals(p.getTraceId(), c.getTraceId(), child + "'s trace");
  }

  @Test
  void aSpanStartedInATaskIsAChildOfTheSpanCurrentWhereTheTaskWasSpawned() {
    Span request = tracer.spanBuilder("request").startSpan();
    try (var r = ContextPropagator.register(MicrometerContext.propagator(otelOnly));
        Scope s = request.makeCurrent()) {
      TaskGroup.run(
          g ->
              g.spawn(
                  () -> {
                    Span task = tracer.spanBuilder("task").startSpan();
                    try (Scope inTask = task.makeCurrent()) {
                      TaskGroup.run(
                          inner ->
                              inner.spawn(() -> tracer.spanBuilder("subtask").startSpan().end()));
                    } finally {
                      task.end();
                    }
                  }));
    } finally {
      request.end();
    }
    assertChild("request", "task");
    assertChild("task", "subtask");
  }

  @Test
  void anApplicationsTasksCarryTheSpanAndTheMdcThroughTheGlobalRegistry() throws Exception {
    ContextRegistry.getInstance()
        .registerThreadLocalAccessor(new Slf4jThreadLocalAccessor())
        .registerThreadLocalAccessor(new OpenTelemetryContextAccessor());
    CompletableFuture<String> mdc = new CompletableFuture<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    App app =
        App.start(
            App.Options.named("otel")
                .withContextPropagator(MicrometerContext.propagator())
                .withProgress(line -> {}),
            Lifespan.of(),
            () -> {
              Span request = tracer.spanBuilder("request").startSpan();
              MDC.put("requestId", "r-50");
              try (Scope s = request.makeCurrent()) {
                Supervisor.fireAndForget(
                    "background",
                    () -> {
                      tracer.spanBuilder("background").startSpan().end();
                      mdc.complete(MDC.get("requestId"));
                      done.complete(null);
                    });
              } finally {
                request.end();
                MDC.clear();
              }
              done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            });
    assertEquals(App.Outcome.SUCCEEDED, app.await(WAIT).orElseThrow().outcome());
    assertChild("request", "background");
    assertEquals("r-50", mdc.getNow(null));
  }

  @Test
  void baggageIsCarriedWithTheRestOfTheContext() {
    CompletableFuture<String> seen = new CompletableFuture<>();
    try (var r = ContextPropagator.register(MicrometerContext.propagator(otelOnly));
        Scope s = Baggage.builder().put("tenant", "acme").build().makeCurrent()) {
      TaskGroup.run(g -> g.spawn(() -> seen.complete(Baggage.current().getEntryValue("tenant"))));
    }
    assertEquals("acme", seen.getNow(null));
  }

  @Test
  void theTasksThreadEndsWithTheRootContext() throws Exception {
    CompletableFuture<Context> during = new CompletableFuture<>();
    CompletableFuture<Context> after = new CompletableFuture<>();
    ThreadFactory watching =
        r ->
            Thread.ofPlatform()
                .unstarted(
                    () -> {
                      r.run();
                      after.complete(Context.current());
                    });
    Span request = tracer.spanBuilder("request").startSpan();
    try (var r = ContextPropagator.register(MicrometerContext.propagator(otelOnly));
        Scope s = request.makeCurrent()) {
      TaskGroup.run("watched", watching, g -> g.spawn(() -> during.complete(Context.current())));
      assertSame(Context.current(), during.getNow(null));
    } finally {
      request.end();
    }
    assertSame(Context.root(), after.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertSame(Context.root(), Context.current(), "the spawner's context after its own scope");
  }

  @Test
  void theAccessorReadsTheRootContextAsNothingAndRestoresTheSetsInReverse() {
    OpenTelemetryContextAccessor accessor = new OpenTelemetryContextAccessor();
    assertNull(accessor.getValue());
    Context a = Context.root().with(Span.wrap(spanContext("a")));
    Context b = Context.root().with(Span.wrap(spanContext("b")));
    accessor.setValue(a);
    accessor.setValue(b);
    assertSame(b, accessor.getValue());
    accessor.restore(a);
    assertSame(a, accessor.getValue());
    accessor.setValue();
    assertNull(accessor.getValue());
    accessor.restore();
    assertSame(a, Context.current());
    accessor.restore();
    assertSame(Context.root(), Context.current());
    IllegalStateException e = assertThrows(IllegalStateException.class, accessor::restore);
    assertTrue(e.getMessage().contains("with no setValue before it"), e.getMessage());
  }

  private io.opentelemetry.api.trace.SpanContext spanContext(String name) {
    Span s = tracer.spanBuilder(name).startSpan();
    s.end();
    return s.getSpanContext();
  }
}
