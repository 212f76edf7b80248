package dev.lifespan.springdemo;

import java.util.concurrent.ThreadLocalRandom;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.task.ThreadPoolTaskExecutorBuilder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * The baseline, {@code demo.mode=plain-spring}: what a Spring Boot service does without Lifespan.
 * The order is stored and answered 201; its confirmation is an {@code @Async} method on Spring
 * Boot's default {@link ThreadPoolTaskExecutor} (the {@code spring.task.execution.*} defaults: 8
 * threads, an unbounded queue, no waiting at shutdown). The web server's graceful shutdown lets
 * in-flight requests finish; the confirmations running or queued when the executor is destroyed are
 * lost, and nothing runs them again after a restart.
 */
public final class AsyncConfirmations implements Confirmations {
  private final OrderStore store;
  private final Confirmer confirmer;

  AsyncConfirmations(OrderStore store, Confirmer confirmer) {
    this.store = store;
    this.confirmer = confirmer;
  }

  @Override
  public long take(NewOrder order) {
    long id = store.insert(order); // committed: auto-commit
    confirmer.confirm(id);
    return id;
  }

  /** The {@code @Async} confirmation: a bean of its own, so that Spring's proxy is called. */
  public static class Confirmer {
    private final OrderStore store;
    private final Counters counters;
    private final DemoProperties demo;

    Confirmer(OrderStore store, Counters counters, DemoProperties demo) {
      this.store = store;
      this.counters = counters;
      this.demo = demo;
    }

    /** Simulates the slow delivery of order {@code id}'s confirmation, then writes it. */
    @Async
    public void confirm(long id) {
      int ms =
          ThreadLocalRandom.current().nextInt(demo.confirmMinMillis(), demo.confirmMaxMillis() + 1);
      try {
        Thread.sleep(ms); // the delivery
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        Counters.LOG.warn("order {}: confirmation interrupted, not delivered", id);
        return;
      }
      store.confirm(id, ms);
      counters.confirmed(id, ms, false);
    }
  }

  /** The baseline's beans. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(name = "demo.mode", havingValue = DemoProperties.PLAIN_SPRING)
  @EnableAsync
  static class Config {
    /** Spring Boot's default executor, as {@code spring.task.execution.*} configure it. */
    @Bean(name = "taskExecutor")
    ThreadPoolTaskExecutor taskExecutor(ThreadPoolTaskExecutorBuilder builder) {
      return builder.build();
    }

    @Bean
    Confirmer confirmer(OrderStore store, Counters counters, DemoProperties demo) {
      return new Confirmer(store, counters, demo);
    }

    @Bean
    Confirmations confirmations(OrderStore store, Confirmer confirmer) {
      return new AsyncConfirmations(store, confirmer);
    }
  }
}
