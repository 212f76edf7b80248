package dev.lifespan.faults;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A running {@link StormChild} JVM, its output (standard output and error merged) read line by line
 * on a thread of its own, and the two ways of sending it a real signal: {@code /bin/kill} (any
 * signal, several at once) and {@link ProcessHandle#destroy()} (SIGTERM; it checks the process's
 * start time, so it never hits a reused pid).
 *
 * <p>A JVM that inherited SIGINT as ignored (a background job of a non-interactive shell, as on
 * some CI runners) cannot handle it, so the child starts through {@code env
 * --default-signal=INT,TERM} where that works (GNU coreutils 8.31 or newer), and a SIGINT is sent
 * only after checking in {@code /proc/<pid>/status} that the child does not ignore it.
 */
final class StormProcess implements AutoCloseable {
  /** How long to wait for a line or an exit that must come: generous, for a loaded machine. */
  static final Duration WAIT = Duration.ofSeconds(60);

  private static Boolean defaultSignalWorks; // guarded by StormProcess.class

  /** One line of output and when it was read ({@link System#nanoTime()}). */
  record Line(int index, String text, long nanos) {}

  private final Process process;
  private final boolean signalsReset;
  private final Thread reader;
  private final List<Line> lines = new ArrayList<>(); // guarded by lines
  private boolean ended; // guarded by lines
  private long exitedNanos; // set by awaitExit

  private StormProcess(Process process, boolean signalsReset) {
    this.process = process;
    this.signalsReset = signalsReset;
    this.reader = Thread.ofPlatform().name("storm output " + process.pid()).start(this::read);
  }

  /** Starts {@link StormChild} with {@code args}. */
  static StormProcess start(List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>();
    boolean reset = defaultSignalWorks();
    if (reset) cmd.addAll(List.of("env", "--default-signal=INT,TERM"));
    cmd.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    // A quick start on a small machine: no optimizing compiler, a small heap.
    cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m"));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), StormChild.class.getName()));
    cmd.addAll(args);
    return new StormProcess(new ProcessBuilder(cmd).redirectErrorStream(true).start(), reset);
  }

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

  boolean isAlive() {
    return process.isAlive();
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

  /** The first line containing {@code part}; fails if there is none. */
  Line line(String part) {
    for (Line l : lines()) {
      if (l.text.contains(part)) return l;
    }
    return fail("no line containing '" + part + "'; output:\n" + output());
  }

  boolean has(String part) {
    return lines().stream().anyMatch(l -> l.text.contains(part));
  }

  long count(String part) {
    return lines().stream().filter(l -> l.text.contains(part)).count();
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

  /** The lines containing {@code parts} appear in this order (each the first such line). */
  void assertOrder(String... parts) {
    int previous = -1;
    String before = null;
    for (String part : parts) {
      Line l = line(part);
      if (l.index <= previous) {
        fail("expected '" + part + "' after '" + before + "'; output:\n" + output());
      }
      previous = l.index;
      before = part;
    }
  }

  /** Writes {@code line} to the child's standard input. */
  void tell(String line) throws IOException {
    OutputStream in = process.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  /**
   * Sends {@code signal} ({@code INT} or {@code TERM}) {@code times} times with one {@code
   * /bin/kill} (the pid repeated: one {@code kill(2)} each); returns {@link System#nanoTime()} just
   * before. The child must be alive: a signal is sent only to a process known to be ours.
   */
  long kill(String signal, int times) throws IOException, InterruptedException {
    requireDeliverable(signal);
    List<String> cmd = new ArrayList<>(List.of("/bin/kill", "-" + signal));
    for (int i = 0; i < times; i++) cmd.add(Long.toString(pid()));
    long before = System.nanoTime();
    Process kill = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(kill.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "kill did not end");
    if (kill.exitValue() != 0 && process.isAlive()) { // not just exited: kill itself failed
      fail(String.join(" ", cmd) + ": exit " + kill.exitValue() + ", " + said + "\n" + output());
    }
    return before;
  }

  /**
   * Sends one SIGTERM through {@link ProcessHandle#destroy()}; returns whether it was sent (false
   * once the process has exited).
   */
  boolean term() {
    return process.toHandle().destroy();
  }

  private void requireDeliverable(String signal) throws IOException {
    OptionalLong ignored = ignoredSignals();
    if (ignored.isEmpty()) return; // no /proc: cannot tell; the test will say what happened
    int number = signal.equals("INT") ? 2 : 15;
    if ((ignored.getAsLong() & (1L << (number - 1))) == 0) return;
    String why =
        "the storm process ignores SIG"
            + signal
            + " (SigIgn "
            + Long.toHexString(ignored.getAsLong())
            + " in /proc/"
            + pid()
            + "/status): it inherited it as ignored";
    org.junit.jupiter.api.Assumptions.assumeTrue(
        signalsReset, why + ", and 'env --default-signal' (GNU coreutils 8.31+) is missing");
    fail(why + ", even though it was started with 'env --default-signal=INT,TERM'");
  }

  private OptionalLong ignoredSignals() throws IOException {
    Path status = Path.of("/proc", Long.toString(pid()), "status");
    if (!Files.isReadable(status)) return OptionalLong.empty();
    try {
      for (String l : Files.readAllLines(status)) {
        if (l.startsWith("SigIgn:")) {
          return OptionalLong.of(Long.parseUnsignedLong(l.substring(7).trim(), 16));
        }
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // exited meanwhile
    }
    return OptionalLong.empty();
  }

  /** Waits for the process to exit and its output to end; returns the exit code. */
  int awaitExit() throws InterruptedException {
    if (!process.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      fail("the storm process has not exited within " + WAIT + "; output:\n" + output());
    }
    exitedNanos = System.nanoTime();
    reader.join(WAIT.toMillis());
    return process.exitValue();
  }

  /** When {@link #awaitExit()} saw the exit. */
  long exitedNanos() {
    return exitedNanos;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }
    reader.join(WAIT.toMillis());
    if (reader.isAlive()) throw new AssertionError("reader of process " + pid() + " did not end");
  }
}
