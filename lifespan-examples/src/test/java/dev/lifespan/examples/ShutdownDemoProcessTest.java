package dev.lifespan.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
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
    try (Child child = Child.start(args("--job-seconds=3", "--grace=20s"))) {
      child.awaitAllJobsStarted();
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
            cancelled.nanos - signalled < Duration.ofSeconds(5).toNanos()
                && cancelled.index < firstResult.index,
            job + " is cancelled at once, before any must-finish job finishes:\n" + child.output());
        child.assertNoLine("job '" + job + "': done");
      }
      for (String job : List.of("report-1", "report-2", "report-3")) {
        Line done = child.line("job '" + job + "' (must-finish): done; result written to");
        assertTrue(received.index < done.index, job + " finished after the signal");
      }
      child.assertLine(
          WAITING_FOR_MUST_FINISH.asPredicate(), "progress names the must-finish jobs");
      child.line("Supervisor 'worker/jobs' shut down in ");
      child.line("3 completed, 3 cancelled, 0 failed, 0 still running");
      assertOrder( // intake closes first, the journal last, after every job has stopped
          child,
          "SIGTERM received: shutting down",
          "layer 'intake' torn down",
          "done; result written to",
          "layer 'jobs' torn down",
          "layer 'journal' torn down");
      child.assertStoppedLine("TERMINATED, exit code 143");
      assertTrue(
          child.exitedNanos - signalled < Duration.ofSeconds(15).toNanos(),
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
    try (Child child = Child.start(args("--job-seconds=60", "--grace=30s"))) {
      child.awaitAllJobsStarted();
      long first = child.signal("INT");
      child.awaitLine("SIGINT received: shutting down");
      // The ordinary jobs are gone; the must-finish ones run on in their grace period.
      child.awaitLine(l -> l.contains("waiting for 3 tasks (3 must-finish)"), "must-finish only");
      child.signal("INT");
      child.awaitLine(
          "SIGINT received again: forcing the shutdown (must-finish work and shields cancelled)");

      assertEquals(130, child.awaitExit(), child.output());
      assertTrue(
          child.exitedNanos - first < Duration.ofSeconds(15).toNanos(),
          "forced: exits long before the 60 s jobs or the 30 s grace would end:\n"
              + child.output());
      for (String job : List.of("report-1", "report-2", "report-3")) {
        child.line("job '" + job + "' (must-finish): cancelled at ");
        child.assertNoLine("job '" + job + "' (must-finish): done");
      }
      child.assertStoppedLine("INTERRUPTED, exit code 130");
      assertResults();
    }
  }

  @Test
  void sigtermDuringStartupCancelsItAndTearsDownTheStartedLayersInReverse() throws Exception {
    try (Child child = Child.start(args("--slow-startup"))) {
      child.awaitLine("intake: connecting to the job queue; --slow-startup: it never answers");
      child.signal("TERM");

      assertEquals(143, child.awaitExit(), child.output());
      assertOrder(
          child,
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
      child.assertStoppedLine("TERMINATED, exit code 143");
      assertResults();
    }
  }

  @Test
  void mustFinishJobWritesItsResultAfterTheSignal() throws Exception {
    try (Child child =
        Child.start(args("--must-finish=1", "--ordinary=0", "--job-seconds=4", "--grace=20s"))) {
      child.awaitLine("job 'report-1' (must-finish): 20%");
      long wallBefore = System.currentTimeMillis();
      child.signal("TERM");

      assertEquals(143, child.awaitExit(), child.output());
      assertOrder(
          child,
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
      child.assertStoppedLine("TERMINATED, exit code 143");
    }
  }

  @Test
  void stubbornTaskIsPrintedAsStragglerWithItsStackAndTheProcessExitsAnywayWithCode4()
      throws Exception {
    Duration grace = Duration.ofSeconds(2), teardown = Duration.ofSeconds(1);
    Duration kill = Duration.ofMillis(500), margin = Duration.ofSeconds(5);
    try (Child child =
        Child.start(
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
      Duration took = Duration.ofNanos(child.exitedNanos - signalled);
      Duration bound = grace.plus(teardown).plus(kill).plus(margin);
      assertTrue(took.compareTo(bound) < 0, "exited " + took + " after SIGTERM; bound " + bound);
      assertOrder(
          child,
          "SIGTERM received: shutting down",
          "job 'stubborn': interrupted, and ignoring it",
          "job 'report-1' (must-finish): done; result written to",
          "waiting for 1 task: 'stubborn'",
          "1 still running",
          "straggler 'stubborn'",
          "at dev.lifespan.examples.ShutdownDemo.stubbornJob(",
          "layer 'journal' torn down");
      child.line("job 'preview-1': cancelled at ");
      child.assertStoppedLine("WORK_ABANDONED, exit code 4");
      assertResults("report-1");
    }
  }

  @Test
  void graceTooShortForAMustFinishJobExitsWith4NamingItWithinTheHardDeadline() throws Exception {
    Duration grace = Duration.ofSeconds(1), teardown = Duration.ofSeconds(1);
    Duration kill = Duration.ofMillis(500), margin = Duration.ofSeconds(5);
    try (Child child =
        Child.start(
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
      Duration took = Duration.ofNanos(child.exitedNanos - signalled);
      Duration bound = grace.plus(teardown).plus(kill).plus(margin);
      assertTrue(took.compareTo(bound) < 0, "exited " + took + " after SIGTERM; bound " + bound);
      assertOrder(
          child,
          "SIGTERM received: shutting down",
          "job 'report-1' (must-finish): cancelled at ",
          "layer 'journal' torn down");
      child.assertNoLine("job 'report-1' (must-finish): done");
      child.assertStoppedLine(
          "WORK_ABANDONED, exit code 4; 1 must-finish task abandoned at the end of the grace"
              + " period: 'report-1'");
      assertResults();
    }
  }

  @Test
  void withoutASignalEveryJobFinishesAndTheExitCodeIsZero() throws Exception {
    try (Child child = Child.start(args("--job-seconds=0.5"))) {
      assertEquals(0, child.awaitExit(), child.output());
      child.line("all jobs done: 3 result files");
      child.line("main body ended: shutting down");
      for (String job : List.of("preview-1", "preview-2", "preview-3")) {
        child.line("job '" + job + "': done");
      }
      child.assertStoppedLine("SUCCEEDED, exit code 0");
      assertResults("report-1", "report-2", "report-3");
    }
  }

  @Test
  void badArgumentPrintsOneLineNamingItAndExitsWith2() throws Exception {
    try (Child child = Child.start(List.of("--grace=soon"))) {
      assertEquals(2, child.awaitExit(), child.output());
      assertEquals(
          List.of(
              "ShutdownDemo: bad argument '--grace=soon': must be a duration of at most a day,"
                  + " such as 1.5s, 500ms, 2m or PT2S"),
          child.lines().stream().map(l -> l.text).toList());
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

  /** The lines containing {@code parts} appear in this order. */
  private static void assertOrder(Child child, String... parts) {
    int previous = -1;
    for (String part : parts) {
      Line l = child.line(part);
      if (l.index <= previous) {
        fail(
            "expected '"
                + part
                + "' after '"
                + child.lines().get(previous).text
                + "':\n"
                + child.output());
      }
      previous = l.index;
    }
  }

  /** One line of the child's output (standard output and error merged), when it was read. */
  record Line(int index, String text, long nanos) {}

  /**
   * A running demo process ({@link ShutdownDemo} unless said otherwise) with a thread reading its
   * output.
   */
  static final class Child implements AutoCloseable {
    private static Boolean defaultSignalWorks; // guarded by Child.class

    private final Process process;
    private final String app;
    private final boolean signalsReset;
    private final Thread reader;
    private final List<Line> lines = new ArrayList<>(); // guarded by lines
    private boolean ended; // guarded by lines
    long exitedNanos;

    private Child(Process process, String app, boolean signalsReset) {
      this.process = process;
      this.app = app;
      this.signalsReset = signalsReset;
      this.reader = Thread.ofPlatform().name("demo output " + process.pid()).start(this::read);
    }

    /** Starts the shutdown demo, whose application is called {@code worker}. */
    static Child start(List<String> args) throws IOException {
      return start(ShutdownDemo.class, "worker", args);
    }

    /** Starts demo {@code main}, whose application is called {@code app}, with {@code args}. */
    static Child start(Class<?> main, String app, List<String> args) throws IOException {
      List<String> cmd = new ArrayList<>();
      boolean reset = defaultSignalWorks();
      if (reset) cmd.addAll(List.of("env", "--default-signal=INT,TERM"));
      cmd.add(javaBinary());
      // A quick start on a small machine: no optimizing compiler, a small heap.
      cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m"));
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
      cmd.addAll(args);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      return new Child(p, app, reset);
    }

    private static String javaBinary() {
      return ProcessHandle.current()
          .info()
          .command()
          .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** Whether {@code env --default-signal} (GNU coreutils 8.31+) is there to un-ignore signals. */
    private static synchronized boolean defaultSignalWorks() {
      if (defaultSignalWorks == null) {
        boolean works;
        try {
          Process p =
              new ProcessBuilder("env", "--default-signal=INT", "true")
                  .redirectErrorStream(true)
                  .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                  .start();
          works = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
          if (p.isAlive()) p.destroyForcibly().waitFor();
        } catch (IOException e) {
          works = false;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          works = false;
        }
        defaultSignalWorks = works;
      }
      return defaultSignalWorks;
    }

    long pid() {
      return process.pid();
    }

    private void read() {
      try (BufferedReader in =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String s; (s = in.readLine()) != null; ) {
          long now = System.nanoTime();
          synchronized (lines) {
            lines.add(new Line(lines.size(), s, now));
            lines.notifyAll();
          }
        }
      } catch (IOException e) {
        // the stream was closed: the process is gone
      } finally {
        synchronized (lines) {
          ended = true;
          lines.notifyAll();
        }
      }
    }

    /** Waits until every job of the default set has said it started. */
    void awaitAllJobsStarted() throws InterruptedException {
      for (String job : ALL_JOBS) {
        awaitLine(
            "job '"
                + job
                + "'"
                + (job.startsWith("report-") ? " (must-finish)" : "")
                + ": started");
      }
    }

    /** Waits for a line containing {@code part}. */
    Line awaitLine(String part) throws InterruptedException {
      return awaitLine(l -> l.contains(part), "'" + part + "'");
    }

    /** Waits for a line matching {@code test}, described as {@code what} in failures. */
    Line awaitLine(Predicate<String> test, String what) throws InterruptedException {
      long deadline = System.nanoTime() + WAIT.toNanos();
      synchronized (lines) {
        int seen = 0;
        while (true) {
          for (; seen < lines.size(); seen++) {
            if (test.test(lines.get(seen).text)) return lines.get(seen);
          }
          long left = deadline - System.nanoTime();
          if (ended || left <= 0) {
            fail(
                "no line "
                    + what
                    + (ended ? " before the output ended" : " within " + WAIT)
                    + "; output:\n"
                    + output());
          }
          TimeUnit.NANOSECONDS.timedWait(lines, left);
        }
      }
    }

    /** The first line containing {@code part}, from the output read so far. */
    Line line(String part) {
      synchronized (lines) {
        for (Line l : lines) {
          if (l.text.contains(part)) return l;
        }
      }
      return fail("no line containing '" + part + "'; output:\n" + output());
    }

    void assertLine(Predicate<String> test, String what) {
      assertTrue(
          lines().stream().anyMatch(l -> test.test(l.text)), what + "; output:\n" + output());
    }

    void assertNoLine(String part) {
      for (Line l : lines()) {
        assertFalse(
            l.text.contains(part), "unexpected line '" + l.text + "'; output:\n" + output());
      }
    }

    /** The output ends with App's line "stopped ...: OUTCOME, exit code N", and has it once. */
    void assertStoppedLine(String outcome) {
      List<Line> all = lines();
      List<Line> stopped =
          all.stream().filter(l -> l.text.contains("] " + app + ": stopped ")).toList();
      assertEquals(1, stopped.size(), "one 'stopped' line; output:\n" + output());
      assertEquals(all.getLast(), stopped.getFirst(), "the 'stopped' line is the last one");
      assertTrue(stopped.getFirst().text.contains(": " + outcome), stopped.getFirst().text);
    }

    List<Line> lines() {
      synchronized (lines) {
        return List.copyOf(lines);
      }
    }

    String output() {
      StringBuilder sb = new StringBuilder();
      for (Line l : lines()) sb.append("  | ").append(l.text).append('\n');
      return sb.toString();
    }

    /**
     * Fails if the child ignores {@code signal} (it inherited it as ignored); skips instead if
     * {@code env --default-signal} was not there to undo that.
     */
    void requireDeliverable(String signal) throws IOException {
      OptionalLong ignored = ignoredSignals();
      if (ignored.isEmpty()) return; // no /proc: cannot tell; the test will say what happened
      int number = signal.equals("INT") ? 2 : 15;
      boolean isIgnored = (ignored.getAsLong() & (1L << (number - 1))) != 0;
      if (!isIgnored) return;
      String why =
          "the demo process ignores SIG"
              + signal
              + " (SigIgn "
              + Long.toHexString(ignored.getAsLong())
              + " in /proc/"
              + pid()
              + "/status): it inherited it as ignored, as a background job of a"
              + " non-interactive shell does";
      assumeTrue(
          signalsReset,
          why
              + ", and 'env --default-signal' (GNU coreutils 8.31+), which undoes that, is missing");
      fail(why + ", even though it was started with 'env --default-signal=INT,TERM'");
    }

    private OptionalLong ignoredSignals() throws IOException {
      Path status = Path.of("/proc", Long.toString(pid()), "status");
      if (!Files.isReadable(status)) return OptionalLong.empty();
      for (String l : Files.readAllLines(status)) {
        if (l.startsWith("SigIgn:")) {
          return OptionalLong.of(Long.parseUnsignedLong(l.substring(7).trim(), 16));
        }
      }
      return OptionalLong.empty();
    }

    /** Sends {@code signal} with {@code kill}; returns {@link System#nanoTime()} just before. */
    long signal(String signal) throws IOException, InterruptedException {
      requireDeliverable(signal);
      long before = System.nanoTime();
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(pid()))
              .redirectErrorStream(true)
              .start();
      String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(kill.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "kill did not end");
      assertEquals(0, kill.exitValue(), "kill -" + signal + " " + pid() + ": " + said);
      return before;
    }

    /** Sends SIGKILL, which cannot be ignored; returns the exit code (137) once it is gone. */
    int kill() throws InterruptedException {
      process.destroyForcibly();
      return awaitExit();
    }

    /** Waits for the process to exit and its output to end; returns the exit code. */
    int awaitExit() throws InterruptedException {
      if (!process.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        fail("the demo has not exited within " + WAIT + "; output:\n" + output());
      }
      exitedNanos = System.nanoTime();
      reader.join(WAIT.toMillis());
      return process.exitValue();
    }

    @Override
    public void close() {
      try {
        if (process.isAlive()) {
          process.destroyForcibly();
          process.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
        reader.join(WAIT.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the test is being stopped: leave the rest to it
        return;
      }
      if (reader.isAlive()) {
        throw new AssertionError(
            String.format(Locale.ROOT, "reader thread of process %d did not end", pid()));
      }
    }
  }
}
