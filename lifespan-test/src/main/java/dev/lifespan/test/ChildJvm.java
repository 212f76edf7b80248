package dev.lifespan.test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;

/**
 * A {@code main} class running in a child JVM, for tests that stop an application the way
 * production does: with real signals ({@code kill -TERM}, {@code kill -INT}, {@code kill -9}),
 * judged by its output and its exit code. The child runs on this JVM's class path; its standard
 * output and error, merged, are read line by line by a thread of this object, and a test orders its
 * steps by {@linkplain #awaitLine waiting for the line} that proves a state, never by sleeping:
 *
 * {@snippet :
 * try (ChildJvm child = ChildJvm.start(MyService.class, List.of("--port=0"))) {
 *     child.awaitLine("ready in");
 *     child.signal("TERM");
 *     assertEquals(143, child.awaitExit());
 *     child.assertOrder("SIGTERM received", "layer 'db' torn down");
 * }
 * }
 *
 * <p><b>Signals that the child cannot see.</b> A JVM that inherited SIGINT as ignored (a background
 * job of a non-interactive shell, as on some CI runners) cannot handle it. The child therefore
 * starts through {@code env --default-signal=INT,TERM} where that works (GNU coreutils 8.31 or
 * newer), and before sending a signal {@link #signal} checks in {@code /proc/<pid>/status} that the
 * child does not ignore it: if it does, the test is skipped when {@code env} could not undo that,
 * and fails otherwise.
 *
 * <p><b>Waits.</b> Every wait for a line or an exit ends after a generous bound ({@link #WAIT}, for
 * a loaded machine) with an {@link AssertionError} that shows the output so far. The child starts
 * with a quick-start configuration for small machines (no optimizing compiler, the serial
 * collector, a 64 MB heap) before {@code jvmOptions}.
 *
 * <p><b>Threads.</b> Methods may be called from any thread. {@link #close()} kills the child if it
 * still runs and waits for its output to end.
 */
public final class ChildJvm implements AutoCloseable {
  /** How long a wait for a line or an exit lasts before it fails. */
  public static final Duration WAIT = Duration.ofSeconds(60);

  private static Boolean defaultSignalWorks; // guarded by ChildJvm.class

  /**
   * One line of the child's output.
   *
   * @param index its position in the output, from 0
   * @param text the line, without its end
   * @param nanos {@link System#nanoTime()} when it was read
   */
  public record Line(int index, String text, long nanos) {}

  private final Process process;
  private final boolean signalsReset;
  private final Thread reader;
  private final List<Line> lines = new ArrayList<>(); // guarded by lines
  private boolean ended; // guarded by lines
  private volatile long exitedNanos;

  private ChildJvm(Process process, boolean signalsReset) {
    this.process = process;
    this.signalsReset = signalsReset;
    this.reader = Thread.ofPlatform().name("output of pid " + process.pid()).start(this::read);
  }

  /** Starts {@code main} with {@code args} in a child JVM. */
  public static ChildJvm start(Class<?> main, List<String> args) throws IOException {
    return start(main, List.of(), args);
  }

  /**
   * Starts {@code main} with {@code args} in a child JVM that also gets {@code jvmOptions} (system
   * properties, {@code --enable-preview}...).
   *
   * @throws IOException if the process cannot be started
   */
  public static ChildJvm start(Class<?> main, List<String> jvmOptions, List<String> args)
      throws IOException {
    Objects.requireNonNull(main, "main");
    Objects.requireNonNull(jvmOptions, "jvmOptions");
    Objects.requireNonNull(args, "args");
    List<String> cmd = new ArrayList<>();
    boolean reset = defaultSignalWorks();
    if (reset) cmd.addAll(List.of("env", "--default-signal=INT,TERM"));
    cmd.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m"));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    cmd.addAll(args);
    return new ChildJvm(new ProcessBuilder(cmd).redirectErrorStream(true).start(), reset);
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

  /** The child's process id. */
  public long pid() {
    return process.pid();
  }

  /** Whether the child still runs. */
  public boolean isAlive() {
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

  // ---- the output

  /** Waits for the first line containing {@code part}, from the start of the output. */
  public Line awaitLine(String part) throws InterruptedException {
    Objects.requireNonNull(part, "part");
    return awaitLine(l -> l.contains(part), "'" + part + "'");
  }

  /**
   * Waits for the first line matching {@code test}, from the start of the output.
   *
   * @param what the line as a failure names it
   * @throws AssertionError if the output ends, or {@link #WAIT} passes, without one
   */
  public Line awaitLine(Predicate<String> test, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    synchronized (lines) {
      int seen = 0;
      while (true) {
        for (; seen < lines.size(); seen++) {
          if (test.test(lines.get(seen).text)) return lines.get(seen);
        }
        long left = deadline - System.nanoTime();
        if (ended || left <= 0) {
          throw new AssertionError(
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

  /**
   * The first line containing {@code part} in the output read so far.
   *
   * @throws AssertionError if there is none
   */
  public Line line(String part) {
    for (Line l : lines()) {
      if (l.text.contains(part)) return l;
    }
    throw new AssertionError("no line containing '" + part + "'; output:\n" + output());
  }

  /**
   * Asserts that no line read so far contains {@code part}.
   *
   * @throws AssertionError naming the first such line, with the output
   */
  public void assertNoLine(String part) {
    for (Line l : lines()) {
      if (l.text.contains(part)) {
        throw new AssertionError("unexpected line '" + l.text + "'; output:\n" + output());
      }
    }
  }

  /** Whether a line read so far contains {@code part}. */
  public boolean has(String part) {
    return lines().stream().anyMatch(l -> l.text.contains(part));
  }

  /** How many lines read so far contain {@code part}. */
  public long count(String part) {
    return lines().stream().filter(l -> l.text.contains(part)).count();
  }

  /** The lines read so far. */
  public List<Line> lines() {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }

  /** The output read so far, one indented line each, for failure messages. */
  public String output() {
    StringBuilder sb = new StringBuilder();
    for (Line l : lines()) sb.append("  | ").append(l.text).append('\n');
    return sb.toString();
  }

  /**
   * Asserts that the first lines containing {@code parts} appear in this order.
   *
   * @throws AssertionError naming the part out of order, or missing, with the output
   */
  public void assertOrder(String... parts) {
    int previous = -1;
    String before = null;
    for (String part : parts) {
      Line l = line(part);
      if (l.index <= previous) {
        throw new AssertionError(
            "expected '" + part + "' after '" + before + "'; output:\n" + output());
      }
      previous = l.index;
      before = part;
    }
  }

  /** Writes {@code line} and a line end to the child's standard input. */
  public void tell(String line) throws IOException {
    OutputStream in = process.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  // ---- signals and the exit

  /** {@link #signal(String, int)} once. */
  public long signal(String signal) throws IOException, InterruptedException {
    return signal(signal, 1);
  }

  /**
   * Sends {@code signal} ({@code INT} or {@code TERM}) {@code times} times with one {@code
   * /bin/kill} (the pid repeated: one {@code kill(2)} each), after checking that the child does not
   * ignore it; returns {@link System#nanoTime()} just before.
   *
   * @throws IllegalArgumentException if {@code signal} is neither {@code INT} nor {@code TERM}, or
   *     {@code times} is not positive
   * @throws AssertionError if {@code kill} fails while the child is alive, or the child ignores
   *     {@code signal} although it was started through {@code env --default-signal}
   */
  public long signal(String signal, int times) throws IOException, InterruptedException {
    if (!signal.equals("INT") && !signal.equals("TERM")) {
      throw new IllegalArgumentException("signal must be INT or TERM: " + signal);
    }
    if (times < 1) throw new IllegalArgumentException("times must be positive: " + times);
    requireDeliverable(signal);
    List<String> cmd = new ArrayList<>(List.of("/bin/kill", "-" + signal));
    for (int i = 0; i < times; i++) cmd.add(Long.toString(pid()));
    long before = System.nanoTime();
    Process kill = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!kill.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
      kill.destroyForcibly();
      throw new AssertionError(String.join(" ", cmd) + " did not end within " + WAIT);
    }
    if (kill.exitValue() != 0 && process.isAlive()) { // not just exited: kill itself failed
      throw new AssertionError(
          String.join(" ", cmd) + ": exit " + kill.exitValue() + ", " + said + "\n" + output());
    }
    return before;
  }

  /**
   * Sends one SIGTERM through {@link ProcessHandle#destroy()}, which checks the process's start
   * time and so never hits a reused pid; returns whether it was sent (false once the child exited).
   */
  public boolean term() {
    return process.toHandle().destroy();
  }

  /** Sends SIGKILL, which cannot be ignored; returns the exit code (137) once the child is gone. */
  public int kill() throws InterruptedException {
    process.destroyForcibly();
    return awaitExit();
  }

  private void requireDeliverable(String signal) throws IOException {
    OptionalLong ignored = ignoredSignals();
    if (ignored.isEmpty()) return; // no /proc: cannot tell; the test will say what happened
    int number = signal.equals("INT") ? 2 : 15;
    if ((ignored.getAsLong() & (1L << (number - 1))) == 0) return;
    String why =
        "the child JVM ignores SIG"
            + signal
            + " (SigIgn "
            + Long.toHexString(ignored.getAsLong())
            + " in /proc/"
            + pid()
            + "/status): it inherited it as ignored, as a background job of a non-interactive"
            + " shell does";
    Assumptions.assumeTrue(
        signalsReset,
        why + ", and 'env --default-signal' (GNU coreutils 8.31+), which undoes that, is missing");
    throw new AssertionError(
        why + ", even though it was started with 'env --default-signal=INT,TERM'");
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
    } catch (NoSuchFileException e) {
      // exited meanwhile
    }
    return OptionalLong.empty();
  }

  /**
   * Waits for the child to exit and its output to end; returns the exit code.
   *
   * @throws AssertionError if it has not exited within {@link #WAIT}
   */
  public int awaitExit() throws InterruptedException {
    if (!process.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(
          "the child JVM has not exited within " + WAIT + "; output:\n" + output());
    }
    exitedNanos = System.nanoTime();
    reader.join(WAIT.toMillis());
    return process.exitValue();
  }

  /** {@link System#nanoTime()} when {@link #awaitExit()} saw the exit; 0 before. */
  public long exitedNanos() {
    return exitedNanos;
  }

  /**
   * Kills the child if it still runs and waits for its output to end.
   *
   * @throws AssertionError if the output does not end within {@link #WAIT}
   */
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
      throw new AssertionError("the output of child JVM " + pid() + " did not end");
    }
  }
}
