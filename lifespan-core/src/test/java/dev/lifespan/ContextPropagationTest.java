package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link ContextPropagator}: thread-local context carried from the spawning thread into tasks. */
class ContextPropagationTest {
  private static final ThreadLocal<String> REQUEST = new ThreadLocal<>();

  @RegisterExtension final LogCapture logs = new LogCapture();

  /** Undos run, as "undo <value>", in the order they ran. */
  private final List<String> undone = new CopyOnWriteArrayList<>();

  /** Carries {@link #REQUEST}; its undo puts back the value the task's thread had before. */
  private final ContextPropagator request =
      () -> {
        String v = REQUEST.get();
        return v == null
            ? null
            : () -> {
              String before = REQUEST.get();
              REQUEST.set(v);
              return () -> {
                undone.add("undo " + v);
                REQUEST.set(before);
              };
            };
      };

  private static App.Options options(String name) {
    return App.Options.named(name).withProgress(line -> {});
  }

  /** Runs {@code body} as the main body of an application that carries {@link #REQUEST}. */
  private void inApp(CheckedRunnable body) throws Exception {
    App app = App.start(options("ctx").withContextPropagator(request), Lifespan.of(), body);
    App.Result r = app.await(Duration.ofSeconds(30)).orElseThrow();
    assertEquals(App.Outcome.SUCCEEDED, r.outcome(), r.toString());
  }

  @Test
  void aTaskAndItsGrandchildSeeTheValueTheSpawnerHadWhenItSpawned() throws Exception {
    CompletableFuture<String> child = new CompletableFuture<>();
    CompletableFuture<String> grandchild = new CompletableFuture<>();
    inApp(
        () -> {
          REQUEST.set("r-1");
          TaskGroup.run(
              g -> {
                g.spawn(
                    () -> {
                      child.complete(REQUEST.get());
                      TaskGroup.run(inner -> inner.spawn(() -> grandchild.complete(REQUEST.get())));
                    });
                REQUEST.set("r-2"); // after the spawn: the task keeps what it captured
              });
          REQUEST.remove();
        });
    assertEquals("r-1", child.getNow(null));
    assertEquals("r-1", grandchild.getNow(null));
  }

  @Test
  void supervisorTasksRestartedServicesStartedTasksAndFireAndForgetWorkCarryIt() throws Exception {
    CompletableFuture<String> spawned = new CompletableFuture<>();
    CompletableFuture<String> forked = new CompletableFuture<>();
    CompletableFuture<String> started = new CompletableFuture<>();
    CompletableFuture<String> background = new CompletableFuture<>();
    List<String> serviceRuns = new CopyOnWriteArrayList<>();
    CountDownLatch restarted = new CountDownLatch(2);
    inApp(
        () -> {
          REQUEST.set("r-7");
          try (Supervisor s = Supervisor.open("sup")) {
            s.spawn("spawned", () -> spawned.complete(REQUEST.get()));
            s.fork("forked", () -> forked.complete(REQUEST.get())).join();
            s.startService(
                ServiceSpec.of(
                        "svc",
                        () -> {
                          serviceRuns.add(REQUEST.get());
                          restarted.countDown();
                          if (serviceRuns.size() < 2) throw new IllegalStateException("first run");
                        })
                    .withRestart(ServiceSpec.Restart.TRANSIENT)
                    .withBackoff(Duration.ofMillis(1), 1.0, Duration.ofMillis(1)));
            assertTrue(restarted.await(30, TimeUnit.SECONDS));
            s.awaitIdle();
          }
          TaskGroup.run(
              g ->
                  assertEquals(
                      "x",
                      g.start(
                          "started",
                          ready -> {
                            started.complete(REQUEST.get());
                            ready.started("x");
                          })));
          Supervisor.fireAndForget("background", () -> background.complete(REQUEST.get()));
          background.get(30, TimeUnit.SECONDS);
          REQUEST.remove();
        });
    assertEquals("r-7", spawned.getNow(null));
    assertEquals("r-7", forked.getNow(null));
    assertEquals(List.of("r-7", "r-7"), serviceRuns);
    assertEquals("r-7", started.getNow(null));
    assertEquals("r-7", background.getNow(null));
  }

  @Test
  void theMainBodyCarriesTheContextOfTheThreadThatStartedTheApplication() throws Exception {
    CompletableFuture<String> main = new CompletableFuture<>();
    REQUEST.set("starter");
    try {
      inApp(() -> main.complete(REQUEST.get()));
    } finally {
      REQUEST.remove();
    }
    assertEquals("starter", main.getNow(null));
  }

  @Test
  void theUndoRunsOnTheTasksThreadAfterItsBodyEvenWhenTheBodyFails() throws Exception {
    List<String> order = new CopyOnWriteArrayList<>();
    CompletableFuture<Thread> bodyThread = new CompletableFuture<>();
    CompletableFuture<Thread> undoThread = new CompletableFuture<>();
    ContextPropagator p =
        () ->
            () -> {
              order.add("restore");
              return () -> {
                order.add("undo");
                undoThread.complete(Thread.currentThread());
              };
            };
    try (var r = ContextPropagator.register(p)) {
      TaskFailedException boom =
          assertThrows(
              TaskFailedException.class,
              () ->
                  TaskGroup.run(
                      g ->
                          g.spawn(
                              () -> {
                                order.add("body");
                                bodyThread.complete(Thread.currentThread());
                                throw new IllegalStateException("boom");
                              })));
      assertEquals("boom", boom.getCause().getMessage());
    }
    assertEquals(List.of("restore", "body", "undo"), order);
    assertSame(bodyThread.getNow(null), undoThread.getNow(null));
  }

  @Test
  void aProcessWidePropagatorCarriesIntoTasksOutsideAnyApplicationUntilClosed() throws Exception {
    CompletableFuture<String> whileRegistered = new CompletableFuture<>();
    CompletableFuture<String> afterClose = new CompletableFuture<>();
    REQUEST.set("global");
    try {
      try (ContextPropagator.Registration r = ContextPropagator.register(request)) {
        TaskGroup.run(g -> g.spawn(() -> whileRegistered.complete(REQUEST.get())));
        r.close(); // idempotent with the try's close
      }
      TaskGroup.run(g -> g.spawn(() -> afterClose.complete(String.valueOf(REQUEST.get()))));
    } finally {
      REQUEST.remove();
    }
    assertEquals("global", whileRegistered.getNow(null));
    assertEquals("null", afterClose.getNow(null));
  }

  @Test
  void processWidePropagatorsAreRestoredBeforeTheApplicationsAndUndoneAfter() throws Exception {
    List<String> order = new CopyOnWriteArrayList<>();
    ContextPropagator global = recording("global", order);
    ContextPropagator own = recording("app", order);
    try (var r = ContextPropagator.register(global)) {
      App app =
          App.start(
              options("order").withContextPropagator(own),
              Lifespan.of(),
              () -> {
                order.clear(); // the main body's own restores
                TaskGroup.run(g -> g.spawn(() -> order.add("body")));
              });
      assertEquals(
          App.Outcome.SUCCEEDED, app.await(Duration.ofSeconds(30)).orElseThrow().outcome());
    }
    assertEquals(
        List.of("restore global", "restore app", "body", "undo app", "undo global"),
        order.subList(0, 5));
  }

  private static ContextPropagator recording(String name, List<String> order) {
    return () ->
        () -> {
          order.add("restore " + name);
          return () -> order.add("undo " + name);
        };
  }

  @Test
  void aCaptureThatThrowsFailsTheSpawnAndCreatesNoTask() {
    AtomicInteger ran = new AtomicInteger();
    RuntimeException boom = new IllegalStateException("capture failed");
    try (var r =
        ContextPropagator.register(
            () -> {
              throw boom;
            })) {
      TaskGroup.run(
          g -> {
            assertSame(
                boom,
                assertThrows(IllegalStateException.class, () -> g.spawn(ran::incrementAndGet)));
          });
    }
    assertEquals(0, ran.get());
  }

  @Test
  void aRestoreThatThrowsFailsTheTaskBeforeItsBodyAndUndoesTheEarlierRestores() {
    List<String> order = new CopyOnWriteArrayList<>();
    RuntimeException boom = new IllegalStateException("restore failed");
    ContextPropagator failing =
        () ->
            () -> {
              throw boom;
            };
    try (var first = ContextPropagator.register(recording("first", order));
        var second = ContextPropagator.register(failing)) {
      TaskFailedException thrown =
          assertThrows(
              TaskFailedException.class,
              () -> TaskGroup.run(g -> g.spawn(() -> order.add("body"))));
      assertSame(boom, thrown.getCause());
    }
    assertEquals(List.of("restore first", "undo first"), order);
  }

  @Test
  void anUndoThatThrowsIsLoggedOnceAndTheOthersStillRun() throws Exception {
    List<String> order = new CopyOnWriteArrayList<>();
    ContextPropagator failingUndo =
        () ->
            () ->
                () -> {
                  throw new IllegalStateException("undo failed");
                };
    try (var first = ContextPropagator.register(recording("first", order));
        var second = ContextPropagator.register(failingUndo)) {
      Task<String>[] task = new Task[1];
      TaskGroup.run(g -> task[0] = g.fork(() -> "result"));
      assertEquals("result", task[0].join(), "the task's outcome is unchanged");
    }
    assertEquals(List.of("restore first", "undo first"), order);
    assertTrue(logs.single(Level.WARNING).getMessage().contains("Undoing a carried context"));
  }

  @Test
  void aPropagatorThatCapturesNothingChangesNothing() {
    CompletableFuture<String> seen = new CompletableFuture<>();
    try (var r = ContextPropagator.register(request)) { // REQUEST unset: captures null
      TaskGroup.run(g -> g.spawn(() -> seen.complete(String.valueOf(REQUEST.get()))));
    }
    assertEquals("null", seen.getNow(null));
    assertTrue(undone.isEmpty());
  }

  @Test
  void badRegistrationsAreClearErrors() {
    NullPointerException e =
        assertThrows(NullPointerException.class, () -> ContextPropagator.register(null));
    assertEquals("propagator", e.getMessage());
    e = assertThrows(NullPointerException.class, () -> options("bad").withContextPropagator(null));
    assertEquals("propagator", e.getMessage());
    e =
        assertThrows(
            NullPointerException.class,
            () ->
                new App.Options(
                    "bad",
                    Duration.ZERO,
                    Duration.ZERO,
                    Duration.ZERO,
                    Duration.ZERO,
                    Duration.ofSeconds(1),
                    line -> {},
                    options("bad").exitCodes(),
                    TimeSource.system(),
                    java.util.Arrays.asList(request, null),
                    List.of()));
    assertEquals("contextPropagators[1] is null (app 'bad')", e.getMessage());
  }
}
