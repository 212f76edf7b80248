package dev.lifespan.spring;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import org.springframework.scheduling.concurrent.SimpleAsyncTaskScheduler;

/**
 * The starter's {@code taskScheduler}: Spring's {@link SimpleAsyncTaskScheduler}, its triggers on a
 * virtual thread, with every firing run on the must-finish {@code applicationTaskExecutor}.
 *
 * <p>Spring runs one-time, fixed-rate and cron firings on its target executor already; a
 * fixed-delay firing it runs on its own scheduler thread, so here that thread hands the firing to
 * the executor and waits for it to end, which keeps fixed-delay's meaning (the delay counts from
 * the end of a firing). A firing's failure is reported once, by its task's supervisor.
 *
 * <p>Shutdown: the scheduler stops in the supervisors' phase ({@link
 * LifespanApplication#SUPERVISORS_PHASE}), beside the supervisors, not in Spring's default phase:
 * Spring's scheduler waits for its running firings when it stops, and in the default phase that
 * wait would hold the drain and the web server's graceful shutdown. So triggers keep firing while
 * the web server drains, and a firing already running at the stop finishes within the grace, not
 * interrupted.
 */
final class LifespanTaskScheduler extends SimpleAsyncTaskScheduler {
  private final Executor executor;

  LifespanTaskScheduler(Executor executor) {
    this.executor = executor;
    setThreadNamePrefix("lifespan-scheduling-");
    setVirtualThreads(true);
    setTargetTaskExecutor(executor);
    setPhase(LifespanApplication.SUPERVISORS_PHASE);
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable task, Instant startTime, Duration delay) {
    return super.scheduleWithFixedDelay(onExecutor(task), startTime, delay);
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, Duration delay) {
    return super.scheduleWithFixedDelay(onExecutor(task), delay);
  }

  /** {@code task} run on the executor, the calling thread waiting for its end. */
  private Runnable onExecutor(Runnable task) {
    return () -> {
      CompletableFuture<Void> ended = new CompletableFuture<>();
      executor.execute(
          () -> {
            try {
              task.run();
            } finally {
              ended.complete(null);
            }
          });
      try {
        ended.get();
      } catch (InterruptedException stopping) { // the scheduler stops; the firing runs on
        Thread.currentThread().interrupt();
      } catch (ExecutionException notThrown) { // the future is only ever completed normally
        throw new IllegalStateException(notThrown);
      }
    };
  }
}
