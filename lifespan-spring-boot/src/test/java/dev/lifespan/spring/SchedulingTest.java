package dev.lifespan.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.scheduling.concurrent.SimpleAsyncTaskScheduler;

/** {@code @Scheduled} work: each firing a must-finish task that the shutdown waits for. */
class SchedulingTest {

  /** A scheduled method whose first firing waits for the test, then says how it ended. */
  @Configuration(proxyBeanMethods = false)
  @EnableScheduling
  static class Ticking {
    final CountDownLatch firing = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final CompletableFuture<String> ended = new CompletableFuture<>();
    volatile String app;

    @Scheduled(fixedDelay = 1, timeUnit = TimeUnit.HOURS)
    public void tick() {
      app = App.current().map(App::name).orElse("none");
      firing.countDown();
      try {
        release.await();
        ended.complete("finished");
      } catch (InterruptedException e) {
        ended.complete("interrupted");
      }
    }
  }

  @Test
  void aRunningFiringFinishesBeforeTheShutdownGoesOn() throws Exception {
    var next = new ExecutorsTest.SupervisorsPhaseNext();
    var context =
        Contexts.plain(
            c -> {
              c.registerBean(Ticking.class);
              c.registerBean("next", ExecutorsTest.SupervisorsPhaseNext.class, () -> next);
            },
            "lifespan.name=ticking");
    assertInstanceOf(SimpleAsyncTaskScheduler.class, context.getBean("taskScheduler"));
    Ticking ticking = context.getBean(Ticking.class);
    assertTrue(ticking.firing.await(30, TimeUnit.SECONDS));
    assertEquals("ticking", ticking.app, "the firing runs as the application's");

    Thread closing = Thread.ofVirtual().start(context::close);
    assertTrue(next.reached.await(30, TimeUnit.SECONDS)); // the supervisors' phase comes next
    assertFalse(ticking.ended.isDone(), "the firing still runs: " + ticking.ended.getNow(null));
    ticking.release.countDown();
    assertTrue(closing.join(Duration.ofSeconds(30)), "the shutdown ended");
    assertEquals("finished", ticking.ended.getNow("still running"));
  }
}
