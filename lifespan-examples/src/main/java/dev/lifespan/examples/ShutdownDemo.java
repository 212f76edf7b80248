package dev.lifespan.examples;

import static dev.lifespan.loadgen.Args.arg;
import static dev.lifespan.loadgen.Args.bad;
import static dev.lifespan.loadgen.Args.duration;
import static dev.lifespan.loadgen.Args.flagOption;
import static dev.lifespan.loadgen.Args.number;
import static dev.lifespan.loadgen.Args.required;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.Lifespan;
import dev.lifespan.LifespanLocal;
import dev.lifespan.Supervisor;
import dev.lifespan.Task;
import dev.lifespan.TaskFailedException;
import dev.lifespan.loadgen.Args;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The shutdown demo: a worker process whose shutdown you can watch, and whose exit code says why it
 * stopped.
 *
 * <p>The worker {@code "worker"} runs three lifespan layers, outermost first:
 *
 * <ol>
 *   <li>{@code journal}: creates the results directory and opens {@code journal.log} in it; every
 *       job records its events there. It closes last, after every job has stopped.
 *   <li>{@code jobs}: owns the supervisor the jobs run in (shut down before the journal closes).
 *   <li>{@code intake}: connects to the queue the jobs come from; it starts last and is the first
 *       to close, so a shutdown stops taking work before anything else. With {@code --slow-startup}
 *       the queue never answers, so a signal arrives during startup.
 * </ol>
 *
 * The main body starts the jobs: <em>must-finish</em> jobs ({@code report-N}), which a shutdown
 * lets finish within the grace period and which each write their result to a file of their own,
 * atomically; and <em>ordinary</em> jobs ({@code preview-N}), which a shutdown cancels at once.
 * When every job is done the worker exits with code 0. On the first Ctrl-C or SIGTERM it stops
 * gracefully; a second Ctrl-C forces it (must-finish jobs are cancelled too); a third gives up. The
 * progress lines ({@code [ 1.25 s] worker: ...}) are printed by {@link App} on standard error, and
 * the library's log records in the same format; the demo's own lines, logged through SLF4J and
 * formatted by Logback ({@code logback.xml}), on standard output.
 *
 * <p>Arguments, all optional, as {@code --key=value}: {@code --results=DIR}, {@code
 * --job-seconds=N}, {@code --must-finish=N}, {@code --ordinary=N}, {@code --grace=DURATION}, {@code
 * --teardown-timeout=DURATION}, {@code --kill-timeout=DURATION}, {@code
 * --progress-interval=DURATION}, {@code --slow-startup}, {@code --stubborn}; {@code --help} lists
 * them. A bad argument prints one line naming it and exits with code 2.
 */
public final class ShutdownDemo {
  private static final String NAME = "worker";
  private static final int STEPS = 5; // progress lines at 20%, 40%, ... 100%

  /** The open journal of the running worker, set by the {@code journal} layer. */
  private static final LifespanLocal<Journal> JOURNAL = LifespanLocal.named("journal");

  /** The supervisor the jobs run in, set by the {@code jobs} layer. */
  private static final LifespanLocal<Supervisor> JOBS = LifespanLocal.named("jobs");

  private final Config config;
  private final Stamped out;

  private ShutdownDemo(Config config, Stamped out) {
    this.config = config;
    this.out = out;
  }

  /**
   * Runs the worker until its jobs are done or a signal stops it, then exits the JVM; see the class
   * description for the arguments.
   */
  public static void main(String[] args) throws IOException {
    Config config =
        Args.parseOrExit(
            "ShutdownDemo",
            Config.USAGE_TEXT,
            args,
            a -> {
              Config c = Config.parse(a);
              if (c != null) appOptions(c).validate(); // the values that must fit together
              return c;
            });
    if (config == null) return;
    Path results =
        config.results != null ? config.results : Files.createTempDirectory("lifespan-demo-");
    // its lines to the log, stamped as the runner's and the library's (logback.xml)
    ShutdownDemo demo =
        new ShutdownDemo(config.withResults(results), Stamped.log(ShutdownDemo.class, NAME));
    demo.run();
  }

  private void run() {
    long pid = ProcessHandle.current().pid();
    say(
        "Lifespan shutdown demo (pid %d): %d must-finish and %d ordinary jobs of %s each;"
            + " results in %s",
        pid, config.mustFinish, config.ordinary, Stamped.seconds(config.jobTime), config.results);
    say("press Ctrl-C or run: kill -TERM %d; a second Ctrl-C forces", pid);
    say(
        "on shutdown, ordinary jobs are cancelled at once and must-finish jobs get %s of grace;"
            + " the last line tells why the worker stopped and its exit code",
        Stamped.seconds(config.grace));
    App.runAndExit(appOptions(config), Lifespan.of(journal(), jobs(), intake()), this::work);
  }

  private static App.Options appOptions(Config config) {
    return App.Options.named(NAME)
        .withGrace(config.grace)
        .withTeardownTimeout(config.teardownTimeout)
        .withKillTimeout(config.killTimeout)
        .withProgressInterval(config.progressInterval);
  }

  // ---- the layers

  /** Opens the journal for the whole run; closes it after every job has stopped. */
  private Lifespan journal() {
    return Lifespan.named(
        "journal",
        ctx -> {
          Files.createDirectories(config.results);
          try (Journal journal = new Journal(config.results.resolve("journal.log"))) {
            JOURNAL.set(journal);
            say("journal: writing to %s", journal.file);
            ctx.proceed();
            say("journal: every job has stopped; closing it after %d entries", journal.entries());
          }
        });
  }

  /** The jobs' supervisor: shut down (grace for must-finish jobs) before the journal closes. */
  private Lifespan jobs() {
    return Lifespan.named(
        "jobs",
        ctx -> {
          JOBS.set(ctx.supervisor());
          ctx.proceed();
          say("jobs: supervisor shut down; %s", results());
        });
  }

  /**
   * The source of the jobs, simulated: connecting takes a moment; with {@code --slow-startup} it
   * never succeeds and waits until the startup is cancelled.
   */
  private Lifespan intake() {
    return Lifespan.named(
        "intake",
        ctx -> {
          if (config.slowStartup) {
            say(
                "intake: connecting to the job queue; --slow-startup: it never answers, so this"
                    + " blocks until the startup is cancelled");
            try {
              CancelScope.sleep(Duration.ofDays(1));
            } catch (CancellationException e) {
              say("intake: connecting cancelled");
              throw e;
            }
          } else {
            CancelScope.sleep(Duration.ofMillis(100));
            say("intake: connected to the job queue");
          }
          ctx.proceed();
          say("intake: disconnected; no new jobs are taken, the running ones go on");
        });
  }

  // ---- the main body and the jobs

  /** Starts the jobs and waits for them; a shutdown request cancels this wait. */
  private void work() {
    Supervisor jobs = JOBS.get();
    List<Task<Void>> tasks = new ArrayList<>();
    for (int i = 1; i <= config.mustFinish; i++) {
      String name = "report-" + i;
      tasks.add(jobs.spawnMustFinish(name, () -> job(name, true)));
    }
    for (int i = 1; i <= config.ordinary; i++) {
      String name = "preview-" + i;
      tasks.add(jobs.spawn(name, () -> job(name, false)));
    }
    if (config.stubborn) jobs.spawn("stubborn", this::stubbornJob);
    for (Task<Void> t : tasks) {
      try {
        t.join();
      } catch (TaskFailedException e) {
        say("job '%s' failed: %s", t.name(), e.getCause());
      }
    }
    say("all jobs done: %s; nothing left to do", results());
  }

  /** One job: {@link #STEPS} steps of work, then (must-finish only) its result file. */
  private void job(String name, boolean mustFinish) throws IOException {
    String label = "job '" + name + "'" + (mustFinish ? " (must-finish)" : "");
    Journal journal = JOURNAL.get();
    say("%s: started", label);
    journal.record(name, "started");
    int done = 0;
    try {
      Duration step = config.jobTime.dividedBy(STEPS);
      while (done < STEPS) {
        CancelScope.sleep(step); // the work; cancellable
        done++;
        say("%s: %d%%", label, done * 100 / STEPS);
      }
    } catch (CancellationException e) {
      journal.record(name, "cancelled at " + done * 100 / STEPS + "%");
      say(
          "%s: cancelled at %d%%%s",
          label,
          done * 100 / STEPS,
          mustFinish ? "; no result written" : " (ordinary job: stopped at once)");
      throw e;
    }
    if (mustFinish) {
      Path file = writeResult(name);
      journal.record(name, "result written");
      say("%s: done; result written to %s", label, file);
    } else {
      journal.record(name, "done");
      say("%s: done", label);
    }
  }

  /** Writes {@code name}'s result atomically: a temporary file, then a rename. */
  private Path writeResult(String name) throws IOException {
    Path file = config.results.resolve(name + ".result");
    Path tmp = config.results.resolve(name + ".result.tmp");
    String text =
        "job="
            + name
            + "\nsteps="
            + STEPS
            + "\nfinished_at="
            + Instant.now()
            + "\nfinished_at_millis="
            + System.currentTimeMillis()
            + "\n";
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return file;
  }

  /**
   * {@code --stubborn}: an ordinary job that swallows interrupts, so cancellation cannot stop it.
   * The shutdown reports it as a straggler, with its stack trace, and the worker exits anyway, with
   * exit code 4 (work abandoned); on its own it would stop after two minutes.
   */
  private void stubbornJob() {
    say("job 'stubborn': started; it ignores cancellation (--stubborn)");
    long until = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    boolean told = false;
    while (System.nanoTime() - until < 0) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        if (!told) say("job 'stubborn': interrupted, and ignoring it");
        told = true;
      }
    }
  }

  private String results() {
    try (var files = Files.list(config.results)) {
      long n = files.filter(p -> p.getFileName().toString().endsWith(".result")).count();
      return n + " result file" + (n == 1 ? "" : "s") + " in " + config.results;
    } catch (IOException e) {
      return "results unreadable: " + e;
    }
  }

  private void say(String format, Object... args) {
    out.say(format, args);
  }

  // ---- the journal

  /**
   * An append-only log of the jobs' events, shared by every job. It writes through a {@link
   * FileOutputStream}, whose writes an interrupt does not affect: an interruptible channel (what
   * {@code Files.newBufferedWriter} uses) would be closed for every job by the first job cancelled
   * while writing to it. A scope without interrupts would not do instead: the event a cancelled job
   * records ("cancelled at 40%") is written after its cancellation, where a checkpoint throws and
   * the thread carries the cancellation's interrupt; only a shield, which clears it, would, and a
   * stream that interrupts never touch needs none.
   */
  private final class Journal implements AutoCloseable {
    final Path file;
    private final Writer writer;
    private final AtomicInteger entries = new AtomicInteger();

    Journal(Path file) throws IOException {
      this.file = file;
      this.writer =
          new OutputStreamWriter(new FileOutputStream(file.toFile(), true), StandardCharsets.UTF_8);
    }

    synchronized void record(String job, String event) {
      try {
        writer.write(Instant.now() + " " + job + " " + event + "\n");
        writer.flush();
        entries.incrementAndGet();
      } catch (IOException e) {
        throw new UncheckedIOException("journal " + file, e);
      }
    }

    int entries() {
      return entries.get();
    }

    @Override
    public synchronized void close() throws IOException {
      writer.close();
    }
  }

  // ---- the command line

  /** The demo's settings, from {@code --key=value} arguments. */
  record Config(
      Path results,
      Duration jobTime,
      int mustFinish,
      int ordinary,
      Duration grace,
      Duration teardownTimeout,
      Duration killTimeout,
      Duration progressInterval,
      boolean slowStartup,
      boolean stubborn) {

    static final String USAGE_TEXT =
        """
        ShutdownDemo: a worker with must-finish and ordinary jobs; stop it with Ctrl-C or SIGTERM.
          --results=DIR               where must-finish jobs write their results (default: a new temp dir)
          --job-seconds=N             how long each job works, in seconds (default 10)
          --must-finish=N             how many must-finish jobs (default 3)
          --ordinary=N                how many ordinary jobs (default 3)
          --grace=DURATION            how long must-finish jobs may run after the first signal (default 15s)
          --teardown-timeout=DURATION time for the layers' teardown after the grace (default 5s)
          --kill-timeout=DURATION     wait for cancelled work before giving up on it (default 2s)
          --progress-interval=DURATION how often a waiting shutdown says what it waits for (default 1s)
          --slow-startup              a layer whose startup blocks until cancelled
          --stubborn                  add an ordinary job that ignores cancellation
        DURATION: 1.5s, 500ms, 2m, a number of seconds, or ISO-8601 (PT2S).
        Exit codes: 0 all jobs done, 1 failure, 2 bad argument, 3 startup failed, 4 must-finish jobs
        abandoned at the end of the grace or a job ignored cancellation, 130 SIGINT, 143 SIGTERM.
        """;

    Config withResults(Path dir) {
      return new Config(
          dir,
          jobTime,
          mustFinish,
          ordinary,
          grace,
          teardownTimeout,
          killTimeout,
          progressInterval,
          slowStartup,
          stubborn);
    }

    /**
     * The settings {@code args} ask for; null for {@code --help}.
     *
     * @throws IllegalArgumentException naming the argument and its value, if one is bad
     */
    static Config parse(String... args) {
      Options options = new Options();
      if (!Args.read(options, args)) return null;
      return new Config(
          options.results,
          options.jobTime,
          options.mustFinish,
          options.ordinary,
          options.grace,
          options.teardown,
          options.kill,
          options.interval,
          options.slow,
          options.stubborn);
    }

    /** The command line's options, each checked as it is read; see {@link #USAGE_TEXT}. */
    @Command(name = "ShutdownDemo")
    private static final class Options {
      Path results = null;
      Duration jobTime = Duration.ofSeconds(10);
      int mustFinish = 3, ordinary = 3;
      Duration grace = Duration.ofSeconds(15);
      Duration teardown = Duration.ofSeconds(5);
      Duration kill = Duration.ofSeconds(2);
      Duration interval = Duration.ofSeconds(1);
      boolean slow = false, stubborn = false;

      @Option(
          names = {"--help", "-h"},
          usageHelp = true)
      boolean help;

      @Option(names = "--slow-startup", arity = "0..1")
      void slowStartup(String value) {
        slow = flagOption("--slow-startup", value);
      }

      @Option(names = "--stubborn", arity = "0..1")
      void stubborn(String value) {
        stubborn = flagOption("--stubborn", value);
      }

      @Option(names = "--results")
      void results(String value) {
        results = Path.of(required(arg("--results", value), value));
      }

      @Option(names = "--job-seconds")
      void jobSeconds(String value) {
        jobTime = Config.jobSeconds(arg("--job-seconds", value), value);
      }

      @Option(names = "--must-finish")
      void mustFinish(String value) {
        mustFinish = number(arg("--must-finish", value), value, 0, 100);
      }

      @Option(names = "--ordinary")
      void ordinary(String value) {
        ordinary = number(arg("--ordinary", value), value, 0, 100);
      }

      @Option(names = "--grace")
      void grace(String value) {
        grace = duration(arg("--grace", value), value);
      }

      @Option(names = "--teardown-timeout")
      void teardownTimeout(String value) {
        teardown = duration(arg("--teardown-timeout", value), value);
      }

      @Option(names = "--kill-timeout")
      void killTimeout(String value) {
        kill = duration(arg("--kill-timeout", value), value);
      }

      @Option(names = "--progress-interval")
      void progressInterval(String value) {
        String arg = arg("--progress-interval", value);
        interval = duration(arg, value);
        if (interval.isZero()) throw bad(arg, "must be more than 0");
      }
    }

    private static Duration jobSeconds(String arg, String value) {
      try {
        double n = Double.parseDouble(required(arg, value));
        if (n > 0 && n <= 86_400) return Duration.ofMillis(Math.max(1, Math.round(n * 1000)));
      } catch (NumberFormatException e) {
        // below
      }
      throw bad(arg, "must be a number of seconds, more than 0 and at most a day");
    }
  }
}
