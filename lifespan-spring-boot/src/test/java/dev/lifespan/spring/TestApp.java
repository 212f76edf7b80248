package dev.lifespan.spring;

import dev.lifespan.App;
import dev.lifespan.LifespanLocal;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The Spring Boot application of the tests: a controller, async work, readiness recorded. */
@SpringBootConfiguration
@EnableAutoConfiguration
@EnableAsync
@Import(TestApp.Controller.class)
public class TestApp {
  /** A value per Lifespan application, so per application context. */
  static final LifespanLocal<String> LOCAL = LifespanLocal.named("context-name");

  /** The readiness states Spring published, in order. */
  @Bean
  Readiness readiness() {
    return new Readiness();
  }

  @Bean
  Work work() {
    return new Work();
  }

  /** Records readiness changes and opens a latch at REFUSING_TRAFFIC. */
  static final class Readiness implements ApplicationListener<AvailabilityChangeEvent<?>> {
    final List<Object> states = new CopyOnWriteArrayList<>();
    final CountDownLatch refusing = new CountDownLatch(1);

    /** Opened when the Lifespan application publishes REFUSING_TRAFFIC (its shutdown began). */
    final CountDownLatch lifespanRefusing = new CountDownLatch(1);

    @Override
    public void onApplicationEvent(AvailabilityChangeEvent<?> event) {
      states.add(event.getState());
      if (event.getState() == ReadinessState.REFUSING_TRAFFIC) {
        refusing.countDown();
        if (event.getSource() instanceof LifespanApplication) lifespanRefusing.countDown();
      }
    }
  }

  /**
   * {@code GET /slow} opens the first latch, then waits for the second; an interrupt ends it,
   * unless {@code ?stubborn=true}.
   */
  static volatile CountDownLatch slowEntered = new CountDownLatch(1);

  static volatile CountDownLatch slowRelease = new CountDownLatch(0);

  @RestController
  static class Controller {
    @GetMapping("/slow")
    String slow(@RequestParam(name = "stubborn", defaultValue = "false") boolean stubborn) {
      slowEntered.countDown();
      boolean interrupted = false;
      try {
        while (true) {
          try {
            slowRelease.await();
            return "slow";
          } catch (InterruptedException e) { // the web server's stop, at the end of its grace
            if (!stubborn) return "interrupted";
            interrupted = true;
          }
        }
      } finally {
        if (interrupted) Thread.currentThread().interrupt();
      }
    }

    @GetMapping("/hello")
    String hello() {
      return "hello";
    }

    @GetMapping("/local")
    String local() {
      return LOCAL.get() + " " + App.current().map(App::name).orElse("none");
    }
  }

  /** Async work on the two executors. */
  static class Work {
    /** Must-finish: runs {@code body} on the default executor. */
    @Async
    public void mustFinish(Runnable body) {
      body.run();
    }

    /** Cancellable: runs {@code body} on the cancellable executor. */
    @Async("lifespanCancellableTaskExecutor")
    public void cancellable(Runnable body) {
      body.run();
    }

    /** Throws {@code failure} from an {@code @Async void} method. */
    @Async
    public void fail(RuntimeException failure) {
      throw failure;
    }
  }
}
