package dev.lifespan.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.test.ChildJvm;
import dev.lifespan.test.ChildJvm.Line;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ShutdownDemo} as a real process: started as a child JVM, stopped with real signals ({@code
 * kill -TERM}, {@code kill -INT}), judged by its exit code, its output and its result files.
 *
 * <p>Events are ordered by waiting for the line that proves a state ("job ... started", "SIGINT
 * received"), never by sleeping. A JVM that inherited SIGINT as ignored (a background job of a
 * non-interactive shell, as on some CI runners) cannot handle it, so the child starts through
 * {@code env --default-signal=INT,TERM} where that works (GNU coreutils 8.31 or newer), and each
 * test checks the child's ignored signals in {@code /proc/<pid>/status} before sending one.
 */
class ShutdownDemoProcessTest {
  /** How long to wait for a line or an exit: generous, for slow CI machines. */
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static final Pattern WAITING_FOR_MUST_FINISH =
      Pattern.compile(
          "stopping supervisor 'worker/jobs': waiting for \\d+ tasks? \\(3 must-finish\\)");

  @TempDir Path results;

  @Test
  void sigtermCancelsOrdinaryJobsAtOnceAndLetsMustFinishJobsWriteTheirResults() throws Exception {
    try (ChildJvm child = start(args("--job-seconds=3", "--grace=20s"))) {
      awaitAllJobsStarted(child);
      assertTrue(
          child.output().contains("press Ctrl-C or run: kill -TERM " + child.pid() + ";"),
          "the first lines tell the user how to stop the demo, with the right pid");
      long signalled = child.signal("TERM");

      assertEquals(143, child.awaitExit(), child.output());
      Line received = child.line("SIGTERM received: shutting down");
      Line firstResult = child.line("done; result written to");
      for (String job : List.of("preview-1", "preview-2", "preview-3")) {
        Line cancelled = child.line("job '" + job + "': cancelled at ");
        assertTrue(
            cancelled.nanos() - signalled < Duration.ofSeconds(5).toNanos()
                && cancelled.index() < firstResult.index(),
            job + " is cancelled at once, before any must-finish job finishes:\n" + child.output());
        child.assertNoLine("job '" + job + "': done");
      }
      for (String job : List.of("report-1", "report-2", "report-3")) {
        Line done = child.line("job '" + job + "' (must-finish): done; result written to");
        assertTrue(received.index() < done.index(), job + " finished after the signal");
      }
      assertTrue(
          child.lines().stream().anyMatch(l -> WAITING_FOR_MUST_FINISH.matcher(l.text()).find()),
          "progress names the must-finish jobs; output:\n" + child.output());
      child.line("Supervisor 'worker/jobs' shut down in ");
      child.line("3 completed, 3 cancelled, 0 failed, 0 still running");
      child.assertOrder( // intake closes first, the journal last, after every job has stopped
          "SIGTERM received: shutting down",
          "layer 'intake' torn down",
          "done; result written to",
          "layer 'jobs' torn down",
          "layer 'journal' torn down");
      assertStoppedLine(child, "worker", "TERMINATED, exit code 143");
      assertTrue(
          child.exitedNanos() - signalled < Duration.ofSeconds(15).toNanos(),
          "the process exits when its must-finish jobs are done, not at the end of the grace");
      assertResults("report-1", "report-2", "report-3");
      String journal = Files.readString(results.resolve("journal.log"));
      for (String job : List.of("report-1", "report-2", "report-3")) {
        assertTrue(journal.contains(job + " result written"), journal);
      }
    }
  }

  @Test
  void secondSigintForcesAndTheProcessExitsLongBeforeTheJobsWouldFinish() throws Exception {
    try (ChildJvm child = start(args("--job-seconds=60", "--grace=30s"))) {
      awaitAllJobsStarted(child);
      long first = child.signal("INT");
      child.awaitLine("SIGINT received: shutting down");
      // The ordinary jobs are gone; the must-finish ones run on in their grace period.
      child.awaitLine(l -> l.contains("waiting for 3 tasks (3 must-finish)"), "must-finish only");
      child.signal("INT");
      child.awaitLine(
          "SIGINT received again: forcing the shutdown (must-finish work and shields cancelled)");

      assertEquals(130, child.awaitExit(), child.output());
      assertTrue(
          child.exitedNanos() - first < Duration.ofSeconds(15).toNanos(),
          "forced: exits long before the 60 s jobs or the 30 s grace would end:\n"
              + child.output());
      for (String job : List.of("report-1", "report-2", "report-3")) {
        child.line("job '" + job + "' (must-finish): cancelled at ");
        child.assertNoLine("job '" + job + "' (must-finish): done");
      }
      assertStoppedLine(child, "worker", "INTERRUPTED, exit code 130");
      assertResults();
    }
  }

  @Test
  void sigtermDuringStartupCancelsItAndTearsDownTheStartedLayersInReverse() throws Exception {
    try (ChildJvm child = start(args("--slow-startup"))) {
      child.awaitLine("intake: connecting to the job queue; --slow-startup: it never answers");
      child.signal("TERM");

      assertEquals(143, child.awaitExit(), child.output());
      child.assertOrder(
          "layer 'journal' started",
          "layer 'jobs' started",
          "starting layer 'intake'",
          "SIGTERM received: shutting down",
          "intake: connecting cancelled",
          "startup of layer 'intake' cancelled",
          "tearing down layer 'jobs'",
          "layer 'jobs' torn down",
          "tearing down layer 'journal'",
          "layer 'journal' torn down");
      child.assertNoLine("layer 'intake' started");
      child.assertNoLine("tearing down layer 'intake'");
      child.assertNoLine("intake: disconnected");
      child.assertNoLine("ready in");
      child.assertNoLine("job '");
      assertStoppedLine(child, "worker", "TERMINATED, exit code 143");
      assertResults();
    }
  }

  @Test
  void mustFinishJobWritesItsResultAfterTheSignal() throws Exception {
    try (ChildJvm child =
        start(args("--must-finish=1", "--ordinary=0", "--job-seconds=4", "--grace=20s"))) {
      child.awaitLine("job 'report-1' (must-finish): 20%");
      long wallBefore = System.currentTimeMillis();
      child.signal("TERM");

      assertEquals(143, child.awaitExit(), child.output());
      child.assertOrder(
          "job 'report-1' (must-finish): 20%",
          "SIGTERM received: shutting down",
          "stopping supervisor 'worker/jobs': waiting for 1 task (1 must-finish): 'report-1'",
          "job 'report-1' (must-finish): 100%",
          "job 'report-1' (must-finish): done; result written to",
          "1 completed, 0 cancelled, 0 failed, 0 still running",
          "layer 'journal' torn down");
      assertResults("report-1");
      String result = Files.readString(results.resolve("report-1.result"));
      long finished =
          result
              .lines()
              .filter(l -> l.startsWith("finished_at_millis="))
              .mapToLong(l -> Long.parseLong(l.substring(l.indexOf('=') + 1)))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no finished_at_millis in:\n" + result));
      assertTrue(finished >= wallBefore, "the result was written after the signal was sent");
      assertStoppedLine(child, "worker", "TERMINATED, exit code 143");
    }
  }

  @Test
  void stubbornTaskIsPrintedAsStragglerWithItsStackAndTheProcessExitsAnywayWithCode4()
      throws Exception {
    Duration grace = Duration.ofSeconds(2), teardown = Duration.ofSeconds(1);
    Duration kill = Duration.ofMillis(500), margin = Duration.ofSeconds(5);
    try (ChildJvm child =
        start(
            args(
                "--stubborn",
                "--must-finish=1",
                "--ordinary=1",
                "--job-seconds=1",
                "--grace=" + grace.toMillis() + "ms",
                "--teardown-timeout=" + teardown.toMillis() + "ms",
                "--kill-timeout=" + kill.toMillis() + "ms"))) {
      child.awaitLine("job 'stubborn': started");
      child.awaitLine("job 'report-1' (must-finish): started");
      long signalled = child.signal("TERM");

      assertEquals(4, child.awaitExit(), "a straggler: the stop was not clean; " + child.output());
      Duration took = Duration.ofNanos(child.exitedNanos() - signalled);
      Duration bound = grace.plus(teardown).plus(kill).plus(margin);
      assertTrue(took.compareTo(bound) < 0, "exited " + took + " after SIGTERM; bound " + bound);
      child.assertOrder(
          "SIGTERM received: shutting down",
          "job 'stubborn': interrupted, and ignoring it",
          "job 'report-1' (must-finish): done; result written to",
          "waiting for 1 task: 'stubborn'",
          "1 still running",
          "straggler 'stubborn'",
          "at dev.lifespan.examples.ShutdownDemo.stubbornJob(",
          "layer 'journal' torn down");
      child.line("job 'preview-1': cancelled at ");
      assertStoppedLine(child, "worker", "WORK_ABANDONED, exit code 4");
      assertResults("report-1");
    }
  }

  @Test
  void graceTooShortForAMustFinishJobExitsWith4NamingItWithinTheHardDeadline() throws Exception {
    Duration grace = Duration.ofSeconds(1), teardown = Duration.ofSeconds(1);
    Duration kill = Duration.ofMillis(500), margin = Duration.ofSeconds(5);
    try (ChildJvm child =
        start(
            args(
                "--must-finish=1",
                "--ordinary=0",
                "--job-seconds=60",
                "--grace=" + grace.toMillis() + "ms",
                "--teardown-timeout=" + teardown.toMillis() + "ms",
                "--kill-timeout=" + kill.toMillis() + "ms"))) {
      child.awaitLine("job 'report-1' (must-finish): started");
      long signalled = child.signal("TERM");

      assertEquals(4, child.awaitExit(), child.output());
      Duration took = Duration.ofNanos(child.exitedNanos() - signalled);
      Duration bound = grace.plus(teardown).plus(kill).plus(margin);
      assertTrue(took.compareTo(bound) < 0, "exited " + took + " after SIGTERM; bound " + bound);
      child.assertOrder(
          "SIGTERM received: shutting down",
          "job 'report-1' (must-finish): cancelled at ",
          "layer 'journal' torn down");
      child.assertNoLine("job 'report-1' (must-finish): done");
      assertStoppedLine(
          child,
          "worker",
          "WORK_ABANDONED, exit code 4; 1 must-finish task abandoned at the end of the grace"
              + " period: 'report-1'");
      assertResults();
    }
  }

  @Test
  void withoutASignalEveryJobFinishesAndTheExitCodeIsZero() throws Exception {
    try (ChildJvm child = start(args("--job-seconds=0.5"))) {
      assertEquals(0, child.awaitExit(), child.output());
      child.line("all jobs done: 3 result files");
      child.line("main body ended: shutting down");
      for (String job : List.of("preview-1", "preview-2", "preview-3")) {
        child.line("job '" + job + "': done");
      }
      assertStoppedLine(child, "worker", "SUCCEEDED, exit code 0");
      assertResults("report-1", "report-2", "report-3");
    }
  }

  @Test
  void badArgumentPrintsOneLineNamingItAndExitsWith2() throws Exception {
    try (ChildJvm child = start(List.of("--grace=soon"))) {
      assertEquals(2, child.awaitExit(), child.output());
      assertEquals(
          List.of(
              "ShutdownDemo: bad argument '--grace=soon': must be a duration of at most a day,"
                  + " such as 1.5s, 500ms, 2m or PT2S"),
          child.lines().stream().map(l -> l.text()).toList());
    }
  }

  // ---- helpers

  private static final List<String> ALL_JOBS =
      List.of("report-1", "report-2", "report-3", "preview-1", "preview-2", "preview-3");

  private List<String> args(String... extra) {
    List<String> all = new ArrayList<>();
    all.add("--results=" + results);
    all.add("--progress-interval=250ms");
    all.addAll(List.of(extra));
    return all;
  }

  /** Exactly these must-finish results are in the results directory, and no temporary file. */
  private void assertResults(String... jobs) throws IOException {
    List<String> expected = Stream.of(jobs).map(j -> j + ".result").sorted().toList();
    try (Stream<Path> files = Files.list(results)) {
      List<String> names =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> !n.equals("journal.log"))
              .sorted()
              .toList();
      assertEquals(expected, names, "result files in " + results);
    }
    for (String job : jobs) {
      String text = Files.readString(results.resolve(job + ".result"));
      assertTrue(text.startsWith("job=" + job + "\n"), text);
    }
  }

  // ---- the demo's output

  /** Starts the shutdown demo, whose application is called {@code worker}. */
  private static ChildJvm start(List<String> args) throws IOException {
    return ChildJvm.start(ShutdownDemo.class, OrdersServiceProcessTest.DEMO_LOGGING, args);
  }

  /** Waits until every job of the default set has said it started. */
  private static void awaitAllJobsStarted(ChildJvm child) throws InterruptedException {
    for (String job : ALL_JOBS) {
      child.awaitLine(
          "job '" + job + "'" + (job.startsWith("report-") ? " (must-finish)" : "") + ": started");
    }
  }

  /**
   * The output of {@code child}, whose application is called {@code app}, ends with the
   * application's line "stopped ...: OUTCOME, exit code N", and has it once.
   */
  static void assertStoppedLine(ChildJvm child, String app, String outcome) {
    List<Line> all = child.lines();
    List<Line> stopped =
        all.stream().filter(l -> l.text().contains("] " + app + ": stopped ")).toList();
    assertEquals(1, stopped.size(), "one 'stopped' line; output:\n" + child.output());
    assertEquals(all.getLast(), stopped.getFirst(), "the 'stopped' line is the last one");
    assertTrue(stopped.getFirst().text().contains(": " + outcome), stopped.getFirst().text());
  }
}
