package dev.lifespan.bench.exit;

import static dev.lifespan.bench.Stats.median;
import static dev.lifespan.bench.Stats.percentile;

import dev.lifespan.bench.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Time from SIGTERM to process exit of an idle application with three lifespan layers ({@link
 * IdleApp}), against JVMs without the library; a bounded program, not JMH.
 *
 * <p>Each run of a variant starts its child JVM (the same {@code java} binary and the same JVM
 * flags for every variant, the harness's own class path), waits until the child has printed its
 * ready line to {@code System.err}, lets it idle for the settle time, then takes the time, sends
 * SIGTERM ({@link Process#destroy()}, which is SIGTERM on Linux and macOS) and takes the time again
 * when {@link Process#waitFor()} returns. The variants run in turn within each round, so that load
 * on the machine falls on all of them alike. Every child must exit with 143.
 *
 * <p>Variants: {@code bare} ({@link BareIdle}: nothing installed, the JVM's own SIGTERM path),
 * {@code hook} ({@link HookIdle}: one empty shutdown hook), {@code signal} ({@link SignalIdle}: a
 * {@code sun.misc.Signal} handler and {@code System.exit(143)}, what the library does by hand) and
 * {@code lifespan} ({@link IdleApp}), and the diagnostic {@code lifespan-warm} ({@link
 * WarmIdleApp}: the same after one in-process start and shutdown, so without the library's
 * first-use costs). The report gives min, median, p90 and max per variant, and the difference of
 * medians against {@code bare}: the library's time beyond the JVM's own exit. For {@code lifespan}
 * it also gives the shutdown time the application itself reports ({@code stopped N ms after the
 * shutdown request}).
 *
 * <p>System properties (all optional): {@code runs} (default 20), {@code settleMillis} (idle time
 * after the ready line, default 500), {@code variants} (comma-separated, default all), {@code
 * childArgs} (extra JVM flags for every child, split at spaces), {@code childClassPath} (the
 * children's class path, default the harness's own: to measure another build of the library),
 * {@code verbose} ({@code true} prints each run's times and the child's output).
 */
public final class ExitTimeHarness {
  private static final long READY_TIMEOUT_SECONDS = 60;
  private static final long EXIT_TIMEOUT_SECONDS = 60;
  private static final int EXPECTED_EXIT = 143;
  private static final Pattern STOPPED = Pattern.compile("stopped (\\d+) ms after");

  private static final Map<String, Class<?>> VARIANTS = new LinkedHashMap<>();

  static {
    VARIANTS.put("bare", BareIdle.class);
    VARIANTS.put("hook", HookIdle.class);
    VARIANTS.put("signal", SignalIdle.class);
    VARIANTS.put("lifespan", IdleApp.class);
    VARIANTS.put("lifespan-warm", WarmIdleApp.class);
  }

  private ExitTimeHarness() {}

  /** One run of one variant: its times in nanoseconds, its exit code and what it printed. */
  private record Run(long readyNanos, long exitNanos, int exitCode, List<String> output) {}

  /** Runs every variant {@code runs} times and prints the report; exits with 1 if a run failed. */
  public static void main(String[] args) throws Exception {
    int runs = Integer.getInteger("runs", 20);
    long settleMillis = Long.getLong("settleMillis", 500);
    boolean verbose = Boolean.getBoolean("verbose");
    List<String> variants = Settings.list("variants", String.join(",", VARIANTS.keySet()), ",");
    for (String v : variants) {
      if (!VARIANTS.containsKey(v)) {
        throw new IllegalArgumentException(
            "unknown variant '" + v + "'; known: " + VARIANTS.keySet());
      }
    }
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElseThrow(() -> new IllegalStateException("cannot tell this JVM's java binary"));
    List<String> childArgs = Settings.list("childArgs", "", " ");
    String classPath = System.getProperty("childClassPath", System.getProperty("java.class.path"));
    System.out.printf(
        "java %s (%s), %d CPUs; child JVM flags: %s; %d runs per variant, settle %d ms%n",
        Runtime.version(),
        java,
        Runtime.getRuntime().availableProcessors(),
        childArgs.isEmpty() ? "(none)" : String.join(" ", childArgs),
        runs,
        settleMillis);

    Map<String, List<Run>> results = new LinkedHashMap<>();
    List<String> failures = new ArrayList<>();
    for (String v : variants) results.put(v, new ArrayList<>());
    // One unmeasured round first: the file system cache and the CPU frequency settle.
    for (int round = 0; round <= runs; round++) {
      for (String v : variants) {
        Run r = runOnce(java, childArgs, classPath, VARIANTS.get(v), settleMillis);
        if (verbose) {
          System.out.printf(
              Locale.ROOT,
              "--- %s round %d: ready after %.1f ms, exited %.1f ms after SIGTERM, exit code %d%n",
              v,
              round,
              r.readyNanos() / 1e6,
              r.exitNanos() / 1e6,
              r.exitCode());
          r.output().forEach(line -> System.out.println("    " + line));
        }
        if (r.exitCode() != EXPECTED_EXIT) {
          failures.add(v + " round " + round + ": exit code " + r.exitCode() + ": " + r.output());
        }
        if (round > 0) results.get(v).add(r);
      }
      if (round > 0) System.out.printf("round %d of %d done%n", round, runs);
    }

    System.out.println();
    System.out.println("SIGTERM to exit (ms), from just before the signal to waitFor() returning:");
    System.out.printf(
        "%-13s %5s %8s %8s %8s %8s %8s   %s%n",
        "variant", "runs", "min", "median", "p90", "max", "-bare", "exit codes");
    double bareMedian =
        results.containsKey("bare") ? median(millis(results.get("bare"), Run::exitNanos)) : 0;
    for (var e : results.entrySet()) {
      double[] ms = millis(e.getValue(), Run::exitNanos);
      if (ms.length == 0) {
        System.out.printf("%-13s no run exited after SIGTERM%n", e.getKey());
        continue;
      }
      Map<Integer, Integer> codes = new LinkedHashMap<>();
      for (Run r : e.getValue()) codes.merge(r.exitCode(), 1, Integer::sum);
      System.out.printf(
          Locale.ROOT,
          "%-13s %5d %8.1f %8.1f %8.1f %8.1f %8s   %s%n",
          e.getKey(),
          ms.length,
          ms[0],
          median(ms),
          percentile(ms, 90),
          ms[ms.length - 1],
          results.containsKey("bare")
              ? String.format(Locale.ROOT, "%+.1f", median(ms) - bareMedian)
              : "-",
          codes);
    }
    System.out.println();
    System.out.println("Start to ready line (ms), for reference:");
    for (var e : results.entrySet()) {
      double[] ms = millis(e.getValue(), Run::readyNanos);
      if (ms.length == 0) continue;
      System.out.printf(
          Locale.ROOT,
          "%-13s min %.1f, median %.1f, max %.1f%n",
          e.getKey(),
          ms[0],
          median(ms),
          ms[ms.length - 1]);
    }
    for (var e : results.entrySet()) {
      double[] reported =
          e.getValue().stream()
              .mapToDouble(ExitTimeHarness::reportedStopMillis)
              .filter(d -> d >= 0)
              .sorted()
              .toArray();
      if (reported.length > 0) {
        System.out.printf(
            Locale.ROOT,
            "%n%s: the application's own 'stopped N ms after the shutdown request' (%d runs): min"
                + " %.0f, median %.0f, max %.0f%n",
            e.getKey(),
            reported.length,
            reported[0],
            median(reported),
            reported[reported.length - 1]);
      }
    }
    if (!failures.isEmpty()) {
      System.out.println();
      System.out.println("FAILED RUNS:");
      failures.forEach(f -> System.out.println("  " + f));
      System.exit(1);
    }
  }

  private static Run runOnce(
      String java, List<String> childArgs, String classPath, Class<?> main, long settleMillis)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(childArgs);
    command.add("-cp");
    command.add(classPath);
    command.add(main.getName());
    // The child's output goes to a file, not a pipe: a pipe's reader races with Process's own
    // draining of the pipe when the child exits, and loses the last lines.
    Path log = Files.createTempFile("exit-time-", ".log");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      long started = System.nanoTime();
      Process p = pb.start();
      long readyAt = -1;
      long giveUp = started + TimeUnit.SECONDS.toNanos(READY_TIMEOUT_SECONDS);
      while (readyAt < 0 && p.isAlive() && System.nanoTime() - giveUp < 0) {
        if (Files.readAllLines(log, StandardCharsets.UTF_8).stream()
            .anyMatch(ExitTimeHarness::isReadyLine)) {
          readyAt = System.nanoTime();
        } else {
          Thread.sleep(1);
        }
      }
      if (readyAt < 0) {
        p.destroyForcibly().waitFor();
        return new Run(-1, -1, -1, Files.readAllLines(log, StandardCharsets.UTF_8));
      }
      Thread.sleep(settleMillis);
      long signalled = System.nanoTime();
      p.destroy(); // SIGTERM
      boolean exited = p.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      long exitedAt = System.nanoTime();
      if (!exited) {
        p.destroyForcibly().waitFor();
        return new Run(readyAt - started, -1, -1, Files.readAllLines(log, StandardCharsets.UTF_8));
      }
      return new Run(
          readyAt - started,
          exitedAt - signalled,
          p.exitValue(),
          Files.readAllLines(log, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static boolean isReadyLine(String line) {
    return line.equals("ready") || (line.startsWith("[") && line.contains(": ready in "));
  }

  private static double reportedStopMillis(Run r) {
    for (String line : r.output()) {
      Matcher m = STOPPED.matcher(line);
      if (m.find()) return Double.parseDouble(m.group(1));
    }
    return -1;
  }

  private static double[] millis(List<Run> runs, java.util.function.ToLongFunction<Run> nanos) {
    return runs.stream()
        .mapToLong(nanos)
        .filter(n -> n >= 0)
        .mapToDouble(n -> n / 1e6)
        .sorted()
        .toArray();
  }
}
