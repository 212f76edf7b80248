package dev.lifespan.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.CheckedRunnable;
import dev.lifespan.ContextPropagator;
import dev.lifespan.Lifespan;
import dev.lifespan.ServiceSpec;
import dev.lifespan.Supervisor;
import dev.lifespan.TaskGroup;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * SLF4J's MDC, through Micrometer's {@link Slf4jThreadLocalAccessor} and {@link MicrometerContext},
 * in the lines a real Logback logger writes from tasks.
 */
class MdcPropagationTest {
  private static final Duration WAIT = Duration.ofSeconds(30); // bounded waits; never reached

  private final LogLines logs = new LogLines("mdc");

  @BeforeAll
  static void registerTheMdc() {
    ContextRegistry.getInstance().registerThreadLocalAccessor(new Slf4jThreadLocalAccessor());
  }

  @AfterEach
  void cleanUp() {
    logs.close();
    MDC.clear();
  }

  /** Runs {@code body} as the main body of an application that carries the global registry. */
  private static void inApp(CheckedRunnable body) throws Exception {
    App app =
        App.start(
            App.Options.named("mdc")
                .withContextPropagator(MicrometerContext.propagator())
                .withProgress(line -> {}),
            Lifespan.of(),
            body);
    App.Result r = app.await(WAIT).orElseThrow();
    assertEquals(App.Outcome.SUCCEEDED, r.outcome(), r.toString());
  }

  @Test
  void aGrandchildTaskLogsTheRequestIdOfTheThreadThatRanTheGroup() {
    MDC.put("requestId", "r-42");
    try (var r = ContextPropagator.register(MicrometerContext.propagator())) {
      TaskGroup.run(
          g ->
              g.spawn(
                  "child",
                  () ->
                      TaskGroup.run(
                          inner -> inner.spawn("grandchild", () -> logs.log.info("grandchild")))));
    }
    assertTrue(logs.line("grandchild").startsWith("requestId=r-42 "), logs.lines().toString());
  }

  @Test
  void aSupervisorsTaskAndBothRunsOfARestartedServiceLogIt() throws Exception {
    CountDownLatch secondRun = new CountDownLatch(1);
    // the library's restart warning, caught here instead of printed with its stack trace
    java.util.logging.Logger library = java.util.logging.Logger.getLogger("dev.lifespan");
    java.util.List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler catcher =
        new java.util.logging.Handler() {
          @Override
          public void publish(java.util.logging.LogRecord r) {
            warnings.add(r.getMessage());
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    boolean parents = library.getUseParentHandlers();
    library.addHandler(catcher);
    library.setUseParentHandlers(false);
    try {
      runSupervisorAndService(secondRun);
    } finally {
      library.removeHandler(catcher);
      library.setUseParentHandlers(parents);
    }
    assertTrue(
        warnings.stream().anyMatch(w -> w.startsWith("Service 'feed' of supervisor 'workers'")),
        warnings.toString());
    assertTrue(logs.line("supervised task").startsWith("requestId=r-43 "), logs.lines().toString());
    assertTrue(logs.line("feed run 1").startsWith("requestId=r-43 "), logs.lines().toString());
    assertTrue(logs.line("feed run 2").startsWith("requestId=r-43 "), logs.lines().toString());
  }

  private void runSupervisorAndService(CountDownLatch secondRun) throws Exception {
    inApp(
        () -> {
          MDC.put("requestId", "r-43");
          try (Supervisor s = Supervisor.open("workers")) {
            s.spawn("task", () -> logs.log.info("supervised task"));
            int[] runs = {0};
            s.startService(
                ServiceSpec.of(
                        "feed",
                        () -> {
                          logs.log.info("feed run " + ++runs[0]);
                          if (runs[0] == 1) throw new IllegalStateException("first run fails");
                          secondRun.countDown();
                        })
                    .withRestart(ServiceSpec.Restart.TRANSIENT)
                    .withBackoff(Duration.ofMillis(1), 1.0, Duration.ofMillis(1)));
            assertTrue(secondRun.await(WAIT.toSeconds(), TimeUnit.SECONDS));
            s.awaitIdle();
          }
        });
  }

  @Test
  void fireAndForgetWorkInAnApplicationLogsWhatTheMainBodyHadAndTheMainBodyWhatItsStarterHad()
      throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    MDC.put("service", "orders"); // on the thread that starts the application
    inApp(
        () -> {
          MDC.put("requestId", "r-44");
          Supervisor.fireAndForget(
              "audit",
              () -> {
                logs.log.info("fire and forget");
                done.complete(null);
              });
          done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        });
    assertEquals(
        "requestId=r-44 service=orders", logs.line("fire and forget").split(" \\[")[0], "line");
  }

  @Test
  void theTasksThreadEndsWithNoMdcEvenWhenItsBodyAddedToIt() throws Exception {
    CompletableFuture<Map<String, String>> during = new CompletableFuture<>();
    CompletableFuture<Map<String, String>> after = new CompletableFuture<>();
    // The task runs inside r.run(): what follows it sees the thread as the task left it.
    ThreadFactory watching =
        r ->
            Thread.ofPlatform()
                .unstarted(
                    () -> {
                      r.run();
                      Map<String, String> left = MDC.getCopyOfContextMap();
                      after.complete(left == null ? Map.of() : left);
                    });
    MDC.put("requestId", "r-45");
    try (var r = ContextPropagator.register(MicrometerContext.propagator())) {
      TaskGroup.run(
          "watched",
          watching,
          g ->
              g.spawn(
                  () -> {
                    MDC.put("step", "inside");
                    during.complete(new HashMap<>(MDC.getCopyOfContextMap()));
                  }));
    }
    assertEquals(Map.of("requestId", "r-45", "step", "inside"), during.getNow(null));
    assertEquals(Map.of(), after.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals(Map.of("requestId", "r-45"), MDC.getCopyOfContextMap(), "the spawner's MDC");
  }

  @Test
  void aProcessWideRegistrationCarriesItOutsideAnyApplicationUntilClosed() {
    MDC.put("requestId", "r-46");
    ContextPropagator.Registration registration =
        ContextPropagator.register(MicrometerContext.propagator());
    try {
      assertTrue(App.current().isEmpty());
      TaskGroup.run(g -> g.spawn(() -> logs.log.info("while registered")));
    } finally {
      registration.close();
    }
    TaskGroup.run(g -> g.spawn(() -> logs.log.info("after close")));
    assertTrue(
        logs.line("while registered").startsWith("requestId=r-46 "), logs.lines().toString());
    assertTrue(logs.line("after close").startsWith("requestId= "), logs.lines().toString());
  }

  @Test
  void aSpawnFromAThreadWithNoContextCarriesNothing() {
    assertNull(MicrometerContext.propagator().capture());
    MDC.put("requestId", "r-47");
    assertTrue(MicrometerContext.propagator().capture() != null);
  }

  @Test
  void aNullRegistryIsRefused() {
    assertEquals(
        "registry",
        assertThrows(NullPointerException.class, () -> MicrometerContext.propagator(null))
            .getMessage());
  }
}
