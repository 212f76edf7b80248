package dev.lifespan.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.Lifespan;
import dev.lifespan.LifespanObserver;
import dev.lifespan.ServiceSpec;
import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import dev.lifespan.Task;
import dev.lifespan.test.FakeClock;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link LifespanMetrics} counting real supervisors and applications in real registries. */
class LifespanMetricsTest {
  private static final Duration FOREVER = Duration.ofDays(1);

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private double count(String name, String... tags) {
    FunctionCounter c = registry.find(name).tags(tags).functionCounter();
    if (c != null) return c.count();
    return registry.get(name).tags(tags).counter().count();
  }

  private double gauge(String name, String... tags) {
    Gauge g = registry.get(name).tags(tags).gauge();
    return g.value();
  }

  @Test
  void tasksOfASupervisorAreCountedStartedFailedCancelledAndRunning() throws Exception {
    LifespanMetrics metrics = new LifespanMetrics(Tags.of("region", "eu"));
    metrics.bindTo(registry);
    App app =
        App.start(
            metrics.observe(App.Options.named("shop").withProgress(line -> {})),
            Lifespan.of(),
            () ->
                Supervisor.run(
                    Supervisor.Options.named("workers").withFailureHandler((t, f) -> {}),
                    sup -> {
                      sup.spawn("ok", () -> {}).join();
                      Task<Void> bad =
                          sup.spawn(
                              "bad",
                              () -> {
                                throw new IOException("disk full");
                              });
                      bad.toCompletableFuture().handle((v, e) -> null).join();
                      CountDownLatch parkedRuns = new CountDownLatch(1);
                      sup.spawn(
                          "parked",
                          () -> {
                            parkedRuns.countDown(); // its start was counted before its body
                            Thread.sleep(FOREVER);
                          });
                      parkedRuns.await();
                      String[] workers = {"app", "shop", "supervisor", "workers", "region", "eu"};
                      assertEquals(3, count("lifespan.tasks.started", workers));
                      assertEquals(1, gauge("lifespan.tasks.running", workers), "parked runs");
                    }));
    App.Result result = app.await();
    assertEquals(App.Outcome.SUCCEEDED, result.outcome(), () -> String.valueOf(result.failure()));
    String[] workers = {"app", "shop", "supervisor", "workers", "region", "eu"};
    assertEquals(3, count("lifespan.tasks.started", workers));
    assertEquals(1, count("lifespan.tasks.failed", workers));
    assertEquals(1, count("lifespan.tasks.cancelled", workers), "parked, by the shutdown");
    assertEquals(0, gauge("lifespan.tasks.running", workers));
    Meter.Id id = registry.get("lifespan.tasks.started").tags(workers).meter().getId();
    assertEquals("Tasks started, per supervisor", id.getDescription());
    assertEquals("tasks", id.getBaseUnit());
  }

  @Test
  void aServiceRestartIsCountedPerService() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch third = new CountDownLatch(1);
    ServiceSpec feed =
        ServiceSpec.of(
                "feed",
                () -> {
                  if (runs.incrementAndGet() < 3) throw new IOException("down #" + runs.get());
                  third.countDown();
                  Thread.sleep(FOREVER);
                })
            .withBackoff(Duration.ZERO, 1, Duration.ZERO)
            .withJitter(0);
    // the supervisor logs each restart (System.Logger "dev.lifespan", java.util.logging here):
    // kept for the assertion below rather than printed with its stack trace
    java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.lifespan");
    List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler keep =
        new java.util.logging.Handler() {
          @Override
          public void publish(java.util.logging.LogRecord r) {
            logged.add(r.getMessage());
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    boolean parents = log.getUseParentHandlers();
    log.addHandler(keep);
    log.setUseParentHandlers(false);
    try (LifespanMetrics metrics = LifespanMetrics.processWide()) {
      metrics.bindTo(registry);
      Supervisor.run(
          Supervisor.Options.named("feeds"),
          sup -> {
            sup.startService(feed);
            third.await();
          });
    } finally {
      log.removeHandler(keep);
      log.setUseParentHandlers(parents);
    }
    assertEquals(
        2, logged.stream().filter(m -> m.contains("restarting")).count(), logged::toString);
    assertEquals(
        2,
        count(
            "lifespan.service.restarts", "app", "none", "supervisor", "feeds", "service", "feed"));
    assertEquals(1, count("lifespan.tasks.started", "app", "none", "supervisor", "feeds"));
    assertEquals(1, count("lifespan.tasks.cancelled", "app", "none", "supervisor", "feeds"));
  }

  @Test
  void shutdownPhasesAreTimedOnTheApplicationsClock() throws Exception {
    FakeClock clock = new FakeClock();
    LifespanMetrics metrics = new LifespanMetrics();
    metrics.bindTo(registry);
    CountDownLatch inGrace = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    LifespanObserver graceWatch =
        new LifespanObserver() {
          @Override
          public void shutdownPhaseBegan(Owner owner, String phase) {
            if (owner.name().equals("billing/background") && phase.equals("grace")) {
              inGrace.countDown();
            }
          }
        };
    App app =
        App.start(
            metrics.observe(
                App.Options.named("billing")
                    .withProgress(line -> {})
                    .withClock(clock)
                    .withObserver(graceWatch)),
            Lifespan.named("db", Lifespan.Context::proceed),
            () -> Supervisor.background().spawnMustFinish("invoice 7", release::await));
    inGrace.await();
    clock.advance(Duration.ofMillis(2500));
    release.countDown();
    assertEquals(App.Outcome.SUCCEEDED, app.await().outcome());
    Timer grace =
        registry
            .get("lifespan.shutdown.phase")
            .tags("app", "billing", "owner", "billing/background", "phase", "grace")
            .timer();
    assertEquals(1, grace.count());
    assertEquals(2500, grace.totalTime(TimeUnit.MILLISECONDS));
    Timer stop =
        registry
            .get("lifespan.shutdown.phase")
            .tags(
                "app",
                "billing",
                "owner",
                "application",
                "phase",
                "stop supervisor 'billing/background'")
            .timer();
    assertEquals(2500, stop.totalTime(TimeUnit.MILLISECONDS));
    Timer teardown =
        registry
            .get("lifespan.shutdown.phase")
            .tags("owner", "application", "phase", "tear down layer 'db'")
            .timer();
    assertEquals(1, teardown.count());
    assertEquals(0, teardown.totalTime(TimeUnit.NANOSECONDS));
    for (String phase : new String[] {"cancel", "kill", "report"}) {
      Timer t =
          registry
              .get("lifespan.shutdown.phase")
              .tags("owner", "billing/background", "phase", phase)
              .timer();
      assertEquals(0, t.totalTime(TimeUnit.NANOSECONDS), phase + ": the clock did not move");
    }
  }

  @Test
  void aStragglerIsCounted() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Task<?>[] deaf = new Task<?>[1];
    ShutdownReport report;
    try (LifespanMetrics metrics = LifespanMetrics.processWide()) {
      metrics.bindTo(registry);
      report =
          Supervisor.run(
              Supervisor.Options.named("stubborn")
                  .withGrace(Duration.ZERO)
                  .withKillTimeout(Duration.ZERO),
              sup -> {
                deaf[0] =
                    sup.spawn(
                        "deaf",
                        () -> {
                          started.countDown();
                          while (true) {
                            try {
                              release.await();
                              return;
                            } catch (InterruptedException ignored) {
                              // ignores its cancellation on purpose
                            }
                          }
                        });
                started.await();
              });
      assertEquals(1, report.stragglers().size());
      assertEquals(1, count("lifespan.stragglers", "app", "none", "supervisor", "stubborn"));
      assertEquals(1, gauge("lifespan.tasks.running", "supervisor", "stubborn"));
      release.countDown();
      deaf[0].toCompletableFuture().handle((v, e) -> null).join();
    }
    assertEquals(0, gauge("lifespan.tasks.running", "supervisor", "stubborn"));
  }

  @Test
  void everyBoundRegistryGetsEveryMeterAndPrometheusNamesThem() throws Exception {
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    LifespanMetrics metrics = new LifespanMetrics();
    metrics.bindTo(registry);
    LifespanObserver.Owner jobs =
        new LifespanObserver.Owner("etl", LifespanObserver.Owner.Kind.SUPERVISOR, "jobs");
    metrics.observer().taskStarted(jobs, "a", false);
    metrics.bindTo(prometheus); // after the supervisor was seen: gets its meters too
    metrics.observer().taskStarted(jobs, "b", true);
    metrics
        .observer()
        .taskEnded(jobs, "a", false, java.util.concurrent.Future.State.FAILED, new IOException());
    assertEquals(2, count("lifespan.tasks.started", "app", "etl", "supervisor", "jobs"));
    String text = prometheus.scrape();
    assertTrue(
        text.contains("lifespan_tasks_started_tasks_total{app=\"etl\",supervisor=\"jobs\"} 2"),
        text);
    assertTrue(
        text.contains("lifespan_tasks_failed_tasks_total{app=\"etl\",supervisor=\"jobs\"} 1"),
        text);
    assertTrue(
        text.contains("lifespan_tasks_running_tasks{app=\"etl\",supervisor=\"jobs\"} 1"), text);
    assertTrue(
        text.contains("# HELP lifespan_tasks_started_tasks_total Tasks started, per supervisor"),
        text);
  }

  @Test
  void taskGroupsAreNotCountedAndProcessWideRegistrationIsOnceAndClosable() throws Exception {
    LifespanMetrics metrics = new LifespanMetrics();
    metrics.bindTo(registry);
    metrics.registerProcessWide();
    assertThrows(IllegalStateException.class, metrics::registerProcessWide);
    dev.lifespan.TaskGroup.run("fan-out", g -> g.spawn(() -> {}));
    assertNull(registry.find("lifespan.tasks.started").tags("supervisor", "fan-out").meter());
    metrics.close();
    metrics.close();
    Supervisor.run(Supervisor.Options.named("after-close"), sup -> sup.spawn("x", () -> {}).join());
    assertNull(registry.find("lifespan.tasks.started").tags("supervisor", "after-close").meter());
  }
}
