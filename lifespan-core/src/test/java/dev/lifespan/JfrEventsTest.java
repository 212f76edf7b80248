package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JfrEventsTest {
  private static final List<String> EVENTS =
      List.of(
          "dev.lifespan.TaskFailed",
          "dev.lifespan.ScopeCancelled",
          "dev.lifespan.ShutdownPhase",
          "dev.lifespan.Straggler");

  @TempDir Path dir;

  /** Records the four events while {@code work} runs; returns those of type {@code type}. */
  private List<RecordedEvent> record(String type, CheckedRunnable work) throws Exception {
    Path file = dir.resolve("lifespan.jfr");
    try (Recording r = new Recording()) {
      for (String e : EVENTS) r.enable(e).withThreshold(Duration.ZERO);
      r.start();
      work.run();
      r.stop();
      r.dump(file);
    }
    return RecordingFile.readAllEvents(file).stream()
        .filter(e -> e.getEventType().getName().equals(type))
        .sorted(Comparator.comparing(RecordedEvent::getStartTime))
        .toList();
  }

  @Test
  void aFailedTaskIsRecordedWithItsOwnerAndException() throws Exception {
    List<RecordedEvent> events =
        record(
            "dev.lifespan.TaskFailed",
            () ->
                Supervisor.run(
                    Supervisor.Options.named("jfr-failures").withFailureHandler((t, f) -> {}),
                    sup -> {
                      sup.spawn(
                          "flaky",
                          () -> {
                            throw new IOException("disk full");
                          });
                      sup.awaitIdle();
                    }));
    RecordedEvent e = only(events, "owner", "jfr-failures");
    assertEquals("flaky", e.getString("task"));
    assertEquals("java.io.IOException", e.getString("exceptionClass"));
    assertEquals("disk full", e.getString("message"));
    assertEquals("Lifespan", e.getEventType().getCategoryNames().get(0));
  }

  @Test
  void aCancelledScopeIsRecordedWithItsReason() throws Exception {
    List<RecordedEvent> events =
        record(
            "dev.lifespan.ScopeCancelled",
            () -> {
              CancelScope.run(CancelScope.Options.named("jfr-scope"), s -> s.cancel("enough"));
              CancelScope.run(
                  CancelScope.Options.named("jfr-deadline").withTimeout(Duration.ZERO), s -> {});
            });
    RecordedEvent byCall = only(events, "scope", "jfr-scope");
    assertEquals("CancelScope", byCall.getString("kind"));
    assertEquals("enough", byCall.getString("reason"));
    assertFalse(byCall.getBoolean("deadline"));
    assertTrue(
        byCall.getStackTrace().getFrames().stream()
            .anyMatch(f -> f.getMethod().getType().getName().equals(getClass().getName())),
        "the stack trace shows who cancelled");
    RecordedEvent byDeadline = only(events, "scope", "jfr-deadline");
    assertEquals("deadline exceeded", byDeadline.getString("reason"));
    assertTrue(byDeadline.getBoolean("deadline"));
  }

  /**
   * Real time: JFR stamps events with the operating system's clock, so the kill phase's recorded
   * duration is compared with a real kill timeout (a lower bound only, tolerant of a slow machine).
   */
  @Test
  @Tag("real-time")
  void aShutdownRecordsItsPhasesAndItsStragglers() throws Exception {
    Duration kill = Duration.ofMillis(20);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Path file = dir.resolve("shutdown.jfr");
    try (Recording r = new Recording()) {
      for (String e : EVENTS) r.enable(e).withThreshold(Duration.ZERO);
      r.start();
      Supervisor sup =
          Supervisor.open(Supervisor.Options.named("jfr-shutdown").withKillTimeout(kill));
      Task<Void> stubborn =
          sup.spawn("stubborn", Fixtures.ignoresCancellation(started, release, null));
      try {
        started.await();
        assertEquals(1, sup.shutdown(Duration.ZERO).stragglers().size());
      } finally {
        release.countDown();
      }
      stubborn.join();
      r.stop();
      r.dump(file);
    }
    List<RecordedEvent> all = RecordingFile.readAllEvents(file);

    List<RecordedEvent> phases =
        all.stream()
            .filter(e -> e.getEventType().getName().equals("dev.lifespan.ShutdownPhase"))
            .filter(e -> e.getString("supervisor").equals("jfr-shutdown"))
            .sorted(Comparator.comparing(RecordedEvent::getStartTime))
            .toList();
    assertEquals(
        List.of("cancel", "grace", "kill", "report"),
        phases.stream().map(e -> e.getString("phase")).toList());
    for (int i = 1; i < phases.size(); i++) {
      assertFalse(phases.get(i).getStartTime().isBefore(phases.get(i - 1).getEndTime()));
    }
    assertTrue(
        phases.get(2).getDuration().compareTo(kill.minusMillis(1)) >= 0,
        "the kill phase waited the kill timeout: " + phases.get(2).getDuration());

    RecordedEvent straggler =
        only(
            all.stream()
                .filter(e -> e.getEventType().getName().equals("dev.lifespan.Straggler"))
                .toList(),
            "supervisor",
            "jfr-shutdown");
    assertEquals("stubborn", straggler.getString("task"));
    assertFalse(straggler.getBoolean("mustFinish"));
    assertTrue(straggler.getDuration("age").compareTo(kill) >= 0, straggler.toString());
  }

  @Test
  void anApplicationsShutdownPhasesAreEvents() throws Exception {
    List<RecordedEvent> phases =
        record(
            "dev.lifespan.ShutdownPhase",
            () ->
                App.start(
                        App.Options.named("jfr-app").withProgress(line -> {}),
                        Lifespan.of(
                            Lifespan.named("db", Lifespan.Context::proceed),
                            Lifespan.named("cache", Lifespan.Context::proceed)),
                        () -> {})
                    .await());
    assertEquals(
        List.of(
            "stop supervisor 'jfr-app/background'",
            "tear down layer 'cache'",
            "tear down layer 'db'"),
        phases.stream()
            .filter(e -> e.getString("supervisor").equals("app jfr-app"))
            .sorted(Comparator.comparing(RecordedEvent::getStartTime))
            .map(e -> e.getString("phase"))
            .toList());
  }

  /** The one event among {@code events} whose string {@code field} is {@code value}. */
  private static RecordedEvent only(List<RecordedEvent> events, String field, String value) {
    List<RecordedEvent> mine =
        events.stream().filter(e -> value.equals(e.getString(field))).toList();
    assertEquals(1, mine.size(), () -> "events with " + field + "=" + value + ": " + events);
    return mine.get(0);
  }

  /**
   * Run in a child JVM by the tests below: cancels a scope, fails a task and shuts a supervisor
   * down, then prints whether JFR was initialised.
   */
  public static final class EventsMain {
    public static void main(String[] args) {
      CancelScope.run(CancelScope.Options.named("child-scope"), s -> s.cancel("enough"));
      Supervisor.run(
          Supervisor.Options.named("child-supervisor").withFailureHandler((t, f) -> {}),
          sup -> {
            sup.spawn(
                "child-flaky",
                () -> {
                  throw new IOException("disk full");
                });
            sup.awaitIdle();
          });
      System.out.println("jfr initialized: " + jdk.jfr.FlightRecorder.isInitialized());
    }
  }

  @Test
  void withoutARecordingTheHooksDoNotInitialiseJfr() throws Exception {
    // The class-loading log shows whether JFR's implementation was set up (its metadata
    // repository, the event classes' instrumentation): about 100 ms, for nothing.
    ChildJvm.Result r = ChildJvm.run(List.of("-Xlog:class+load"), EventsMain.class);
    assertEquals(0, r.exitCode(), r.output());
    assertTrue(r.output().contains("jfr initialized: false"), r.output());
    List<String> jfrInternals =
        r.output().lines().filter(l -> l.contains(" jdk.jfr.internal.")).toList();
    assertEquals(List.of(), jfrInternals);
  }

  @Test
  void aRecordingStartedOnTheCommandLineGetsTheEvents() throws Exception {
    Path file = dir.resolve("child.jfr");
    ChildJvm.Result r =
        ChildJvm.run(List.of("-XX:StartFlightRecording:filename=" + file), EventsMain.class);
    assertEquals(0, r.exitCode(), r.output());
    assertTrue(r.output().contains("jfr initialized: true"), r.output());
    List<String> scopes =
        RecordingFile.readAllEvents(file).stream()
            .filter(e -> e.getEventType().getName().equals("dev.lifespan.ScopeCancelled"))
            .map(e -> e.getString("scope"))
            .toList();
    assertTrue(scopes.contains("child-scope"), scopes.toString());
    List<String> failed =
        RecordingFile.readAllEvents(file).stream()
            .filter(e -> e.getEventType().getName().equals("dev.lifespan.TaskFailed"))
            .map(e -> e.getString("task"))
            .toList();
    assertEquals(List.of("child-flaky"), failed);
  }
}
