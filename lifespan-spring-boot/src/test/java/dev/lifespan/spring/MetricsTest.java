package dev.lifespan.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.jdbc.Journal;
import dev.lifespan.jdbc.Kind;
import dev.lifespan.micrometer.LifespanMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** The starter wires lifespan-micrometer into Spring Boot's registry, for the context's own app. */
class MetricsTest {

  @Test
  void theExecutorsTasksAndTheJournalAreCountedInSpringBootsRegistry() throws Exception {
    CountDownLatch handling = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    var context =
        Contexts.plain(
            c ->
                c.registerBean(
                    "journal",
                    Journal.class,
                    () ->
                        Journal.create(c.getBean(DataSource.class), Journal.Options.named("outbox"))
                            .register(
                                Kind.of(
                                    "note",
                                    (entry, tx) -> {
                                      handling.countDown();
                                      release.await();
                                    }))),
            "lifespan.name=metered",
            "logging.level.dev.lifespan=OFF", // the failure it provokes, logged by the supervisor
            "spring.datasource.url=jdbc:h2:mem:metrics-test;DB_CLOSE_DELAY=-1");
    try (context) {
      MeterRegistry registry = context.getBean(MeterRegistry.class);
      LifespanTaskExecutor executor =
          context.getBean("applicationTaskExecutor", LifespanTaskExecutor.class);
      double started = sum(registry, "lifespan.tasks.started");
      double failed = sum(registry, "lifespan.tasks.failed");
      CountDownLatch ran = new CountDownLatch(2);
      executor.execute(ran::countDown);
      executor.execute(ran::countDown);
      executor.execute(
          () -> {
            throw new IllegalStateException("refused"); // fails its task; logged once
          });
      assertTrue(ran.await(30, TimeUnit.SECONDS));
      await(() -> sum(registry, "lifespan.tasks.failed"), failed + 1);
      assertEquals(started + 3, sum(registry, "lifespan.tasks.started"));

      Gauge pending = registry.find("lifespan.journal.pending").tag("journal", "outbox").gauge();
      assertNotNull(pending, "the journal's gauge is registered");
      assertEquals(0.0, pending.value());
      context.getBean(Journal.class).enqueueAndCommit("note", "k1", "");
      assertTrue(handling.await(30, TimeUnit.SECONDS));
      assertEquals(1.0, pending.value()); // running, not yet done
      release.countDown();
      await(pending::value, 0.0);
    }
  }

  @Test
  void noMetricsWhenTheStarterIsOff() {
    try (var context = Contexts.plain(c -> {}, "lifespan.enabled=false")) {
      assertTrue(context.getBeansOfType(LifespanMetrics.class).isEmpty());
      MeterRegistry registry = context.getBean(MeterRegistry.class);
      assertTrue(registry.find("lifespan.tasks.started").functionCounters().isEmpty());
    }
  }

  private static double sum(MeterRegistry registry, String name) {
    return registry.find(name).tag("app", "metered").functionCounters().stream()
        .mapToDouble(FunctionCounter::count)
        .sum();
  }

  /** Waits, bounded, for {@code value} to become {@code expected} (an effect on another thread). */
  private static void await(DoubleSupplier value, double expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (value.getAsDouble() != expected && System.nanoTime() < deadline) Thread.sleep(5);
    assertEquals(expected, value.getAsDouble());
  }
}
