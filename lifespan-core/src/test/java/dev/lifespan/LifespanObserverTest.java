package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.LifespanObserver.Owner;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link LifespanObserver}: what it is told, in which order, by whom, and what a throw does. */
class LifespanObserverTest {
  private static final Duration FOREVER = Duration.ofDays(1);

  @RegisterExtension final LogCapture logs = new LogCapture();

  /**
   * Records every event whose owner passes {@code filter} as one line, e.g. {@code "start sup/a"},
   * {@code "end sup/a FAILED boom"}, {@code "began sup cancel"}, {@code "ended sup cancel PT0S"}.
   */
  static final class Recorder implements LifespanObserver {
    final String label;
    final Predicate<Owner> filter;
    final List<String> events;

    Recorder(String label, Predicate<Owner> filter, List<String> events) {
      this.label = label;
      this.filter = filter;
      this.events = events;
    }

    Recorder(Predicate<Owner> filter) {
      this("", filter, new CopyOnWriteArrayList<>());
    }

    private void add(Owner o, String line) {
      if (filter.test(o)) events.add(label + line);
    }

    @Override
    public void taskStarted(Owner owner, String task, boolean mustFinish) {
      add(owner, "start " + owner.name() + "/" + task + (mustFinish ? " must-finish" : ""));
    }

    @Override
    public void taskEnded(
        Owner owner, String task, boolean mustFinish, Future.State outcome, Throwable failure) {
      add(
          owner,
          "end "
              + owner.name()
              + "/"
              + task
              + " "
              + outcome
              + (failure == null ? "" : " " + failure.getMessage()));
    }

    @Override
    public void serviceRestarting(
        Owner supervisor, String service, int attempt, Throwable cause, Duration delay) {
      add(
          supervisor,
          "restart "
              + supervisor.name()
              + "/"
              + service
              + " #"
              + attempt
              + " "
              + cause.getMessage()
              + " in "
              + delay);
    }

    @Override
    public void shutdownPhaseBegan(Owner owner, String phase) {
      add(owner, "began " + owner.name() + " " + phase);
    }

    @Override
    public void shutdownPhaseEnded(Owner owner, String phase, Duration took) {
      add(owner, "ended " + owner.name() + " " + phase + " " + took);
    }

    @Override
    public void straggler(Owner supervisor, String task, Duration age, boolean mustFinish) {
      add(supervisor, "straggler " + supervisor.name() + "/" + task);
    }

    /** The events that start with {@code prefix}, in order. */
    List<String> starting(String prefix) {
      return events.stream().filter(e -> e.startsWith(prefix)).toList();
    }
  }

  private static Predicate<Owner> named(String name) {
    return o -> o.name().equals(name);
  }

  @Test
  void eachTaskIsToldStartedThenEndedWithItsOutcomeAndTheShutdownItsPhasesInOrder()
      throws Exception {
    Recorder r = new Recorder(named("obs"));
    try (var reg = LifespanObserver.register(r)) {
      Supervisor.run(
          Supervisor.Options.named("obs").withFailureHandler((t, f) -> {}),
          sup -> {
            sup.spawn("ok", () -> {}).join();
            sup.spawn(
                    "bad",
                    () -> {
                      throw new IOException("boom");
                    })
                .toCompletableFuture()
                .handle((v, e) -> null)
                .join();
            sup.spawnMustFinish("must", () -> {}).join();
            Task<Void> parked = sup.spawn("parked", () -> Thread.sleep(FOREVER));
            while (!r.events.contains("start obs/parked")) Thread.onSpinWait();
          });
    }
    List<String> events = r.events.stream().map(e -> e.replaceAll("PT[0-9.]+S", "PT0S")).toList();
    assertEquals(
        List.of(
            "start obs/ok",
            "end obs/ok SUCCESS",
            "start obs/bad",
            "end obs/bad FAILED boom",
            "start obs/must must-finish",
            "end obs/must SUCCESS",
            "start obs/parked",
            "end obs/parked CANCELLED"),
        events.stream().filter(e -> e.startsWith("start ") || e.startsWith("end ")).toList());
    assertEquals(
        List.of(
            "began obs cancel",
            "ended obs cancel PT0S",
            "began obs grace",
            "ended obs grace PT0S",
            "began obs kill",
            "ended obs kill PT0S",
            "began obs report",
            "ended obs report PT0S"),
        events.stream().filter(e -> e.startsWith("began") || e.startsWith("ended")).toList());
    int parkedEnd = events.indexOf("end obs/parked CANCELLED");
    assertTrue(
        events.indexOf("began obs cancel") < parkedEnd
            && parkedEnd < events.indexOf("ended obs grace PT0S"),
        "cancelled by the shutdown, waited for by its grace phase: " + events);
  }

  @Test
  void theEndIsToldBeforeAnybodySeesTheTaskEnded() throws Exception {
    AtomicInteger running = new AtomicInteger();
    LifespanObserver counting =
        new LifespanObserver() {
          @Override
          public void taskStarted(Owner owner, String task, boolean mustFinish) {
            if (owner.name().equals("fan-out")) running.incrementAndGet();
          }

          @Override
          public void taskEnded(
              Owner owner, String task, boolean mf, Future.State outcome, Throwable failure) {
            if (owner.name().equals("fan-out")) running.decrementAndGet();
          }
        };
    try (var reg = LifespanObserver.register(counting)) {
      TaskGroup.run(
          "fan-out",
          g -> {
            List<Task<Integer>> tasks = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
              int n = i;
              tasks.add(g.fork(() -> n));
            }
            for (Task<Integer> t : tasks) t.join();
            assertEquals(0, running.get(), "every joined task was told ended first");
          });
    }
  }

  @Test
  void anObserverUnregisteredWhileATaskRunsIsStillToldItsEnd() throws Exception {
    Recorder r = new Recorder(named("unreg"));
    CountDownLatch release = new CountDownLatch(1);
    Supervisor.run(
        Supervisor.Options.named("unreg"),
        sup -> {
          Task<Void> t;
          try (var reg = LifespanObserver.register(r)) {
            t = sup.spawn("t", release::await);
            while (!r.events.contains("start unreg/t")) Thread.onSpinWait();
          }
          sup.spawn("after", () -> {}).join(); // started after the close: not told
          release.countDown();
          t.join();
        });
    assertEquals(List.of("start unreg/t", "end unreg/t SUCCESS"), r.events);
  }

  @Test
  void anApplicationsObserverSeesOnlyItsOwnAppAfterTheProcessWideOnes() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    Predicate<Owner> inApps = o -> o.app() != null && o.app().startsWith("observed-");
    Recorder global = new Recorder("global ", inApps, events);
    Recorder own = new Recorder("own ", inApps, events);
    CheckedRunnable body = () -> Supervisor.background().spawn("work", () -> {}).join();
    try (var reg = LifespanObserver.register(global)) {
      App a =
          App.start(
              App.Options.named("observed-a").withProgress(l -> {}).withObserver(own),
              Lifespan.of(),
              body);
      assertEquals(App.Outcome.SUCCEEDED, a.await().outcome());
      App b = App.start(App.Options.named("observed-b").withProgress(l -> {}), Lifespan.of(), body);
      assertEquals(App.Outcome.SUCCEEDED, b.await().outcome());
    }
    List<String> tasks =
        events.stream().filter(e -> e.contains("/work")).toList(); // the tasks' events only
    assertEquals(
        List.of(
            "global start observed-a/background/work",
            "own start observed-a/background/work",
            "global end observed-a/background/work SUCCESS",
            "own end observed-a/background/work SUCCESS",
            "global start observed-b/background/work",
            "global end observed-b/background/work SUCCESS"),
        tasks);
    assertTrue(
        events.contains("own began observed-a stop supervisor 'observed-a/background'"),
        events::toString);
    assertTrue(events.stream().noneMatch(e -> e.startsWith("own") && e.contains("observed-b")));
  }

  @Test
  void aThrowingObserverIsLoggedOnceAndChangesNoOutcome() throws Exception {
    LifespanObserver throwing =
        new LifespanObserver() {
          @Override
          public void taskStarted(Owner owner, String task, boolean mustFinish) {
            if (owner.name().equals("thrown")) throw new IllegalStateException("observer broke");
          }

          @Override
          public void taskEnded(
              Owner owner, String task, boolean mf, Future.State outcome, Throwable failure) {
            if (owner.name().equals("thrown")) throw new StackOverflowError("observer broke again");
          }

          @Override
          public void shutdownPhaseBegan(Owner owner, String phase) {
            if (owner.name().equals("thrown")) throw new IllegalStateException("and again");
          }

          @Override
          public String toString() {
            return "throwing-observer";
          }
        };
    Recorder after = new Recorder(named("thrown"));
    List<String> handled = new CopyOnWriteArrayList<>();
    ShutdownReport report;
    try (var r1 = LifespanObserver.register(throwing);
        var r2 = LifespanObserver.register(after)) {
      report =
          Supervisor.run(
              Supervisor.Options.named("thrown")
                  .withFailureHandler((t, f) -> handled.add(t.name() + ": " + f.getMessage())),
              sup -> {
                assertEquals(42, sup.fork("answer", () -> 42).join());
                Task<Object> bad =
                    sup.fork(
                        "bad",
                        () -> {
                          throw new IOException("its own failure");
                        });
                assertThrows(TaskFailedException.class, bad::join);
              });
    }
    assertEquals(List.of(), handled, "the joined failure went to the joiner, as without observers");
    assertTrue(report.clean(), report::toString);
    assertEquals(
        List.of(
            "start thrown/answer",
            "end thrown/answer SUCCESS",
            "start thrown/bad",
            "end thrown/bad FAILED its own failure"),
        after.events.stream().filter(e -> e.startsWith("start ") || e.startsWith("end ")).toList(),
        "the next observer is still told");
    assertEquals(
        List.of(
            "began thrown cancel",
            "began thrown grace",
            "began thrown kill",
            "began thrown report"),
        after.starting("began"));
    var record = logs.single(Level.WARNING);
    assertTrue(
        record.getMessage().startsWith("Observer throwing-observer threw from taskStarted"),
        record.getMessage());
    assertEquals("observer broke", record.getThrown().getMessage());
  }

  @Test
  void aRestartIsToldWithItsAttemptCauseAndDelay() throws Exception {
    Recorder r = new Recorder(named("feeds"));
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch third = new CountDownLatch(1);
    ServiceSpec flaky =
        ServiceSpec.of(
                "feed",
                () -> {
                  if (runs.incrementAndGet() < 3) throw new IOException("down #" + runs.get());
                  third.countDown();
                  Thread.sleep(FOREVER);
                })
            .withBackoff(Duration.ZERO, 1, Duration.ZERO)
            .withJitter(0);
    try (var reg = LifespanObserver.register(r)) {
      Supervisor.run(
          Supervisor.Options.named("feeds"),
          sup -> {
            sup.startService(flaky);
            third.await();
          });
    }
    assertEquals(
        List.of("restart feeds/feed #1 down #1 in PT0S", "restart feeds/feed #2 down #2 in PT0S"),
        r.starting("restart"));
    assertEquals(2, logs.records().size(), "each restart still logged: " + logs);
  }

  @Test
  @SuppressWarnings("unchecked")
  void aStragglerIsToldOnce() throws Exception {
    Recorder r = new Recorder(named("stubborn"));
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Task<Void>[] stubborn = new Task[1];
    ShutdownReport report;
    try (var reg = LifespanObserver.register(r)) {
      report =
          Supervisor.run(
              Supervisor.Options.named("stubborn")
                  .withGrace(Duration.ZERO)
                  .withKillTimeout(Duration.ZERO),
              sup -> {
                stubborn[0] =
                    sup.spawn(
                        "deaf",
                        () -> {
                          started.countDown();
                          while (true) {
                            try {
                              release.await();
                              return;
                            } catch (InterruptedException ignored) {
                              // ignores cancellation on purpose
                            }
                          }
                        });
                started.await();
              });
      assertEquals(1, report.stragglers().size());
      assertEquals(List.of("straggler stubborn/deaf"), r.starting("straggler"));
      release.countDown();
      stubborn[0].toCompletableFuture().handle((v, e) -> null).join();
    }
    assertEquals("end stubborn/deaf SUCCESS", r.events.getLast());
  }

  @Test
  void anApplicationsPhasesAreTimedOnItsClock() throws Exception {
    TestClock clock = new TestClock();
    Recorder r = new Recorder(o -> "timed".equals(o.app()));
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch inGrace = new CountDownLatch(1);
    LifespanObserver graceWatch =
        new LifespanObserver() {
          @Override
          public void shutdownPhaseBegan(Owner owner, String phase) {
            if (owner.name().equals("timed/background") && phase.equals("grace")) {
              inGrace.countDown();
            }
          }
        };
    App app =
        App.start(
            App.Options.named("timed")
                .withProgress(l -> {})
                .withClock(clock)
                .withObserver(r)
                .withObserver(graceWatch),
            Lifespan.named("db", Lifespan.Context::proceed),
            () -> Supervisor.background().spawnMustFinish("confirm", release::await));
    inGrace.await();
    clock.advance(Duration.ofSeconds(3));
    release.countDown();
    assertEquals(App.Outcome.SUCCEEDED, app.await().outcome());
    assertEquals(
        List.of(
            "began timed stop supervisor 'timed/background'",
            "ended timed stop supervisor 'timed/background' PT3S",
            "began timed tear down layer 'db'",
            "ended timed tear down layer 'db' PT0S"),
        r.events.stream().filter(e -> e.matches("(began|ended) timed .*")).toList());
    assertTrue(r.events.contains("ended timed/background grace PT3S"), r.events::toString);
  }
}
