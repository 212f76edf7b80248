package dev.lifespan.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.lifespan.App;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.task.TaskRejectedException;

/** The must-finish and the cancellable executor at shutdown. */
class ExecutorsTest {

  /** Opens a latch when Spring's stop reaches the phase just before the supervisors'. */
  static final class SupervisorsPhaseNext implements SmartLifecycle {
    final CountDownLatch reached = new CountDownLatch(1);
    volatile boolean running;

    @Override
    public void start() {
      running = true;
    }

    @Override
    public void stop() {
      running = false;
      reached.countDown();
    }

    @Override
    public boolean isRunning() {
      return running;
    }

    @Override
    public int getPhase() {
      return LifespanApplication.SUPERVISORS_PHASE + 1;
    }
  }

  @Test
  void shutdownWaitsForMustFinishTasksAndCancelsTheOthers() throws Exception {
    var next = new SupervisorsPhaseNext();
    var context =
        Contexts.plain(c -> c.registerBean("next", SupervisorsPhaseNext.class, () -> next));
    LifespanApplication app = context.getBean(LifespanApplication.class);
    TestApp.Work work = context.getBean(TestApp.Work.class);
    CountDownLatch mustStarted = new CountDownLatch(1);
    CountDownLatch mustRelease = new CountDownLatch(1);
    AtomicReference<String> must = new AtomicReference<>("not run");
    CountDownLatch cancellableStarted = new CountDownLatch(1);
    AtomicReference<String> cancellable = new AtomicReference<>("not run");
    work.mustFinish(
        () -> {
          mustStarted.countDown();
          try {
            mustRelease.await();
            must.set("done, interrupted " + Thread.currentThread().isInterrupted());
          } catch (InterruptedException e) {
            must.set("interrupted");
          }
        });
    work.cancellable(
        () -> {
          cancellableStarted.countDown();
          try {
            Thread.sleep(Duration.ofDays(1));
            cancellable.set("slept a day");
          } catch (InterruptedException e) {
            cancellable.set("cancelled");
          }
        });
    mustStarted.await();
    cancellableStarted.await();

    Thread closing = Thread.ofPlatform().name("close").start(context::close);
    next.reached.await(); // the web server and every higher phase have stopped
    assertTrue(closing.isAlive());
    mustRelease.countDown();
    closing.join();

    assertEquals("done, interrupted false", must.get());
    assertEquals("cancelled", cancellable.get());
    App.Result result = app.result().orElseThrow();
    assertEquals(App.Outcome.SUCCEEDED, result.outcome());
    assertEquals(List.of(), result.abandoned());
  }

  @Test
  void aTaskSubmittedAfterTheSupervisorsStoppedIsRejectedWithAClearMessage() {
    var context = Contexts.plain(c -> {}, "lifespan.name=rejecting");
    var executor = context.getBean("applicationTaskExecutor", LifespanTaskExecutor.class);
    context.close();
    var rejected = assertThrows(TaskRejectedException.class, () -> executor.execute(() -> {}));
    assertTrue(
        rejected
            .getMessage()
            .matches(
                "task 'applicationTaskExecutor-\\d+' rejected: executor 'applicationTaskExecutor'"
                    + " of Lifespan application 'rejecting' takes no more tasks, the application"
                    + " is shutting down \\(supervisor 'rejecting/spring' \\w+\\)"),
        rejected.getMessage());
  }

  @Test
  void anExceptionOfAnAsyncVoidMethodIsLoggedOnce() throws Exception {
    List<ILoggingEvent> events;
    try (var context = Contexts.plain(c -> {});
        var log = new LogCapture()) {
      events = log.events();
      context.getBean(TestApp.Work.class).fail(new IllegalStateException("boom 42"));
      context.getBean(LifespanApplication.class).supervisor().awaitIdle();
    }
    long reported =
        events.stream()
            .filter(
                e ->
                    e.getThrowableProxy() != null
                        && "boom 42".equals(e.getThrowableProxy().getMessage()))
            .count();
    assertEquals(1, reported, events.toString());
  }
}
