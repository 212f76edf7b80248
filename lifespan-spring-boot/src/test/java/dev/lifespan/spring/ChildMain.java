package dev.lifespan.spring;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;

/**
 * The test application as a process, for {@link ProcessShutdownTest}: Tomcat on a free port, a
 * must-finish task that works through the shutdown, and a cancellable task that ignores its
 * cancellation. Spring's own shutdown hook handles SIGTERM.
 */
public final class ChildMain {
  private ChildMain() {}

  public static void main(String[] args) throws Exception {
    CountDownLatch closing = new CountDownLatch(1);
    var context =
        new SpringApplicationBuilder(TestApp.class)
            .initializers(
                c -> {
                  WebShutdownTest.server(
                      (org.springframework.context.support.GenericApplicationContext) c, "tomcat");
                  c.addApplicationListener(
                      (ApplicationListener<ContextClosedEvent>) e -> closing.countDown());
                })
            .run(args);
    TestApp.Work work = context.getBean(TestApp.Work.class);
    work.mustFinish(
        () -> {
          try {
            closing.await(); // the shutdown has begun
            Thread.sleep(Duration.ofMillis(500)); // the work left to do
            System.out.println("must-finish task done");
          } catch (InterruptedException e) {
            System.out.println("must-finish task interrupted");
          }
        });
    work.cancellable(
        () -> {
          while (true) {
            try {
              Thread.sleep(Duration.ofDays(1));
            } catch (InterruptedException e) {
              System.out.println("cancellable task ignores its cancellation");
            }
          }
        });
    System.out.println(
        "child ready on port " + context.getEnvironment().getProperty("local.server.port"));
  }
}
