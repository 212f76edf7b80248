package dev.lifespan.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.Supervisor;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.task.AsyncTaskExecutor;

class AutoConfigurationTest {

  @Test
  void theBeansAreThereAndTheMustFinishExecutorIsTheDefaultOfAsync() {
    try (var context = Contexts.plain(c -> {}, "lifespan.name=beans")) {
      LifespanApplication app = context.getBean(LifespanApplication.class);
      assertEquals("beans", app.name());
      assertEquals(App.State.READY, app.app().state());
      assertSame(app.supervisor(), context.getBean("lifespanSupervisor", Supervisor.class));
      var byDefault = context.getBean("taskExecutor", LifespanTaskExecutor.class);
      assertSame(byDefault, context.getBean("applicationTaskExecutor"));
      assertTrue(byDefault.isMustFinish());
      assertFalse(
          context
              .getBean("lifespanCancellableTaskExecutor", LifespanTaskExecutor.class)
              .isMustFinish());
    }
  }

  @Test
  void lifespanEnabledFalseSwitchesItOffAndSpringBootMakesItsOwnExecutor() {
    try (var context = Contexts.plain(c -> {}, "lifespan.enabled=false")) {
      assertTrue(context.getBeansOfType(LifespanApplication.class).isEmpty());
      assertTrue(context.getBeansOfType(Supervisor.class).isEmpty());
      Object executor = context.getBean("applicationTaskExecutor");
      assertFalse(executor instanceof LifespanTaskExecutor, executor.toString());
      assertInstanceOf(AsyncTaskExecutor.class, executor);
    }
  }

  @Test
  void theApplicationsNameDefaultsToSpringApplicationName() {
    try (var context = Contexts.plain(c -> {}, "spring.application.name=orders")) {
      assertEquals("orders", context.getBean(LifespanApplication.class).name());
    }
  }

  /** Records, when Spring destroys it (as it closes a DataSource), what had stopped before. */
  static final class Resource implements DisposableBean {
    final List<String> seen = new CopyOnWriteArrayList<>();
    Supervisor users;
    LifespanApplication app;

    @Override
    public void destroy() {
      seen.add("user supervisor " + users.state());
      seen.add("app " + app.app().state());
    }
  }

  @Test
  void aSupervisorBeanOfTheApplicationStopsBeforeTheResourcesAreDestroyed() {
    Resource resource = new Resource();
    Supervisor users = Supervisor.open("users");
    var context =
        Contexts.plain(
            c -> {
              c.registerBean("users", Supervisor.class, () -> users);
              c.registerBean("resource", Resource.class, () -> resource);
            });
    assertTrue(context.getBeansOfType(Supervisor.class).keySet().equals(java.util.Set.of("users")));
    resource.users = users;
    resource.app = context.getBean(LifespanApplication.class);
    context.close();
    assertEquals(List.of("user supervisor TERMINATED", "app STOPPED"), resource.seen);
    assertEquals(App.Outcome.SUCCEEDED, resource.app.result().orElseThrow().outcome());
  }

  @Test
  void aDrainDelayNotShorterThanTheGraceFailsTheStartupWithOneLine() {
    var failure =
        assertThrows(
            Exception.class,
            () ->
                Contexts.plain(
                    c -> {}, "lifespan.shutdown.drain-delay=40s", "lifespan.shutdown.grace=5s"));
    Throwable root = failure;
    while (root.getCause() != null) root = root.getCause();
    assertEquals(
        "lifespan.shutdown.drain-delay=40s must be shorter than lifespan.shutdown.grace=5s:"
            + " the grace period is the whole shutdown budget and includes the drain delay",
        root.getMessage());
    var analysis = new LifespanFailureAnalyzer().analyze(failure);
    assertEquals(root.getMessage(), analysis.getDescription());
  }

  @Test
  void aNegativeDurationFailsTheStartupWithOneLine() {
    var failure =
        assertThrows(
            Exception.class, () -> Contexts.plain(c -> {}, "lifespan.shutdown.kill-timeout=-1s"));
    var analysis = new LifespanFailureAnalyzer().analyze(failure);
    assertEquals(
        "lifespan.shutdown.kill-timeout=-1s must not be negative", analysis.getDescription());
  }

  @Test
  void theConfigurationMetadataListsEveryPropertyWithItsDescription() throws Exception {
    String json;
    try (InputStream in =
        getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    for (String property :
        List.of(
            "lifespan.enabled",
            "lifespan.name",
            "lifespan.shutdown.grace",
            "lifespan.shutdown.drain-delay",
            "lifespan.shutdown.teardown-timeout",
            "lifespan.shutdown.kill-timeout")) {
      int at = json.indexOf("\"name\": \"" + property + "\"");
      if (at < 0) at = json.indexOf("\"name\":\"" + property + "\"");
      assertTrue(at >= 0, property + " in the metadata:\n" + json);
      int end = json.indexOf('}', at);
      String entry = json.substring(at, end);
      assertTrue(entry.contains("\"description\""), property + " has a description: " + entry);
      if (property.startsWith("lifespan.shutdown.")) {
        assertTrue(entry.contains("java.time.Duration"), property + " is a Duration: " + entry);
      }
    }
  }

  @Test
  void theGracefulShutdownPhaseIsSpringBootsAndTheDrainComesBeforeIt() throws Exception {
    Class<?> lifecycle = null;
    for (String name :
        List.of(
            "org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle",
            "org.springframework.boot.web.context.WebServerGracefulShutdownLifecycle")) {
      try {
        lifecycle = Class.forName(name);
      } catch (ClassNotFoundException e) {
        // the other version
      }
    }
    assertEquals(
        lifecycle.getField("SMART_LIFECYCLE_PHASE").getInt(null),
        LifespanApplication.GRACEFUL_SHUTDOWN_PHASE);
    assertTrue(LifespanApplication.DRAIN_PHASE > LifespanApplication.GRACEFUL_SHUTDOWN_PHASE);
  }

  @Test
  void whenTheLifespanApplicationStopsOnItsOwnReadinessDropsAndTheContextCloses() throws Exception {
    var closed = new java.util.concurrent.CountDownLatch(1);
    var context =
        Contexts.plain(
            c ->
                c.addApplicationListener(
                    (org.springframework.context.ApplicationListener<
                            org.springframework.context.event.ContextClosedEvent>)
                        e -> closed.countDown()),
            "lifespan.name=on-its-own");
    LifespanApplication app = context.getBean(LifespanApplication.class);
    app.app().requestShutdown();
    context.getBean(TestApp.Readiness.class).lifespanRefusing.await();
    closed.await();
    assertEquals(App.Outcome.SUCCEEDED, app.app().await().outcome());
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("close context of 'on-its-own'")) t.join();
    }
    assertFalse(context.isActive());
  }
}
