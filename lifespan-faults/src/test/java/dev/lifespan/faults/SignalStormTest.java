package dev.lifespan.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.lifespan.test.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * Signal storms on real processes: {@link StormChild}, an application of three layers run with
 * {@code App.runAndExit} in a child JVM, gets real SIGTERMs and SIGINTs ({@code /bin/kill}, {@link
 * ProcessHandle#destroy()}) at chosen points of its startup, its run and its teardown, one at a
 * time, in bursts, and in a stream that goes on until the process is gone. Every storm checks what
 * the README promises, every time:
 *
 * <ul>
 *   <li>the exit code: 143 after SIGTERM, 130 after SIGINT (whatever follows), 4 when the runner
 *       gave up, 1 when a teardown failed;
 *   <li>the last line of the output is the one line {@code stopped N ms after the shutdown request:
 *       OUTCOME, exit code N}, printed once;
 *   <li>the process is gone by its hard deadline: grace + teardown timeout + kill timeout after the
 *       first signal, plus an allowance for the JVM's own exit ({@code
 *       -Dlifespan.faults.exitAllowanceSeconds}, default 10 s, for a loaded machine);
 *   <li>nothing printed a stack trace, unless the outcome prints one by design (the failure of a
 *       FAILED application, the threads a runner gives up on).
 * </ul>
 *
 * Storms that expect an outcome other than 143 keep sending SIGTERMs until the process is gone, so
 * that a signal arriving while the process exits is part of every such storm.
 *
 * <p>Each storm runs once in {@code ./run.sh test}; {@code -Dlifespan.faults.storms=N} repeats each
 * N times ({@code ./run.sh faults}, {@code STORMS=N}).
 */
class SignalStormTest {
  private static final int REPEATS = Integer.getInteger("lifespan.faults.storms", 1);
  private static final Duration EXIT_ALLOWANCE =
      Duration.ofSeconds(Long.getLong("lifespan.faults.exitAllowanceSeconds", 10));

  /** The runner's budget: grace, teardown timeout and kill timeout, in milliseconds. */
  private record Budget(long grace, long teardown, long kill) {
    /** For storms that wait for a deadline: short, so that they are fast. */
    static final Budget SHORT = new Budget(2000, 1000, 500);

    /** For storms that end cleanly: room for a slow machine between the test's steps. */
    static final Budget ROOMY = new Budget(8000, 4000, 1000);

    Duration hardDeadlineAndKill() {
      return Duration.ofMillis(grace + teardown + kill);
    }

    List<String> args() {
      return List.of("grace=" + grace, "teardown=" + teardown, "kill=" + kill);
    }
  }

  private record Storm(String name, Executable run) {}

  /** Per storm, in order: runs passed and failed, and the longest time from signal to exit. */
  private static final Map<String, long[]> TALLY =
      Collections.synchronizedMap(new LinkedHashMap<>());

  private static volatile long lastTookMillis; // set by assertEnd

  /**
   * Writes {@code target/signal-storms.tsv}, one line per storm: name, runs, passed, failed, the
   * longest time from the first signal to the exit in milliseconds. {@code ./run.sh faults} turns
   * it into its table.
   */
  @AfterAll
  static void writeTally() throws IOException {
    StringBuilder sb = new StringBuilder();
    synchronized (TALLY) {
      TALLY.forEach(
          (name, t) ->
              sb.append(name)
                  .append('\t')
                  .append(t[0] + t[1])
                  .append('\t')
                  .append(t[0])
                  .append('\t')
                  .append(t[1])
                  .append('\t')
                  .append(t[2])
                  .append('\n'));
    }
    Path target = Path.of("target");
    if (Files.isDirectory(target)) Files.writeString(target.resolve("signal-storms.tsv"), sb);
  }

  /** Runs {@code storm} and counts it. */
  private static void tallied(Storm storm) throws Throwable {
    lastTookMillis = 0;
    boolean passed = false;
    try {
      storm.run.execute();
      passed = true;
    } finally {
      long[] t = TALLY.computeIfAbsent(storm.name, k -> new long[3]);
      synchronized (TALLY) {
        t[passed ? 0 : 1]++;
        t[2] = Math.max(t[2], lastTookMillis);
      }
    }
  }

  @TestFactory
  Stream<DynamicTest> signalStorms() {
    List<Storm> storms = new ArrayList<>();
    storms.add(new Storm("SIGTERM burst while the layers start", this::termBurstDuringStartup));
    for (int i = 1; i <= 3; i++) {
      int layer = i;
      storms.add(
          new Storm(
              "SIGTERM while layer L" + i + " of 3 starts", () -> termDuringLayerStartup(layer)));
    }
    storms.add(new Storm("SIGTERMs during teardown", this::termsDuringTeardown));
    storms.add(new Storm("50 SIGTERMs in a burst", this::fiftyTerms));
    storms.add(new Storm("SIGINT then SIGTERMs", this::intThenTerms));
    storms.add(new Storm("second SIGINT in the grace forces", this::secondIntForces));
    storms.add(
        new Storm("SIGTERMs while a teardown ignores cancellation", this::termsWhileTeardownHangs));
    storms.add(
        new Storm(
            "SIGTERMs while a teardown blocks until cancelled", this::termsWhileTeardownIsStuck));
    return storms.stream()
        .flatMap(
            s ->
                IntStream.rangeClosed(1, REPEATS)
                    .mapToObj(
                        r ->
                            DynamicTest.dynamicTest(
                                s.name + (REPEATS > 1 ? " #" + r : ""), () -> tallied(s))));
  }

  // ---- the storms

  /**
   * SIGTERMs while the layers start (each takes 20 ms), landing anywhere before READY or just
   * after: 143; no layer starts after the signal; those started are torn down in reverse; a layer
   * whose startup began either started or says that its startup was cancelled.
   */
  void termBurstDuringStartup() throws Exception {
    Budget b = Budget.ROOMY;
    try (ChildJvm child = start(b, "startup-ms=20")) {
      child.awaitLine("child: L1 starting");
      long first = child.signal("TERM", 5);
      assertEnd(child, first, b, 143, "TERMINATED");
      assertEquals(1, child.count("SIGTERM received: shutting down"), child.output());
      int signalled = child.line("SIGTERM received: shutting down").index();
      List<String> tornDown = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        String layer = "layer 'L" + i + "'";
        if (!child.has("starting " + layer)) continue;
        assertTrue(
            child.line("starting " + layer).index() < signalled || child.has("ready in"),
            "no layer begins to start after the signal:\n" + child.output());
        if (child.has(layer + " started")) tornDown.addFirst(layer + " torn down");
        else assertTrue(child.has("startup of " + layer + " cancelled"), child.output());
      }
      child.assertOrder(tornDown.toArray(String[]::new)); // in reverse
      if (!child.has("ready in")) assertFalse(child.has("child: main running"), child.output());
    }
  }

  /** SIGTERM while layer {@code i} starts: its startup is cancelled, the others torn down. */
  void termDuringLayerStartup(int i) throws Exception {
    Budget b = Budget.ROOMY;
    try (ChildJvm child = start(b, "hold-start=L" + i)) {
      child.awaitLine("child: L" + i + " holding startup");
      long first = child.signal("TERM", 1);
      assertEnd(child, first, b, 143, "TERMINATED");
      List<String> order = new ArrayList<>();
      for (int j = 1; j < i; j++) order.add("layer 'L" + j + "' started");
      order.add("SIGTERM received: shutting down");
      order.add("child: L" + i + " startup ended");
      order.add("startup of layer 'L" + i + "' cancelled");
      for (int j = i - 1; j >= 1; j--) order.add("layer 'L" + j + "' torn down");
      child.assertOrder(order.toArray(String[]::new));
      for (String never :
          List.of("ready in", "child: main running", "layer 'L" + i + "' started")) {
        assertFalse(child.has(never), "'" + never + "' printed:\n" + child.output());
      }
    }
  }

  /** SIGTERM, then more while L2's teardown is held: 143, the layers torn down in reverse. */
  void termsDuringTeardown() throws Exception {
    Budget b = Budget.ROOMY;
    try (ChildJvm child = start(b, "hold-teardown=L2")) {
      child.awaitLine("child: main running");
      long first = child.signal("TERM", 1);
      child.awaitLine("child: L2 holding teardown");
      child.signal("TERM", 5);
      for (int k = 0; k < 5; k++) child.term();
      child.awaitLine("SIGTERM received again: already shutting down");
      child.tell("release");
      assertEnd(child, first, b, 143, "TERMINATED");
      child.assertOrder(
          "SIGTERM received: shutting down",
          "layer 'L3' torn down",
          "child: L2 holding teardown",
          "SIGTERM received again",
          "child: L2 released",
          "layer 'L2' torn down",
          "layer 'L1' torn down");
    }
  }

  /** 50 SIGTERMs at once, from two senders, to a ready application: one shutdown, 143. */
  void fiftyTerms() throws Exception {
    Budget b = Budget.ROOMY;
    try (ChildJvm child = start(b)) {
      child.awaitLine("child: main running");
      AtomicInteger sent = new AtomicInteger();
      Thread other =
          Thread.ofPlatform()
              .name("storm sender")
              .start(
                  () -> {
                    for (int k = 0; k < 25; k++) if (child.term()) sent.incrementAndGet();
                  });
      long first;
      try {
        first = child.signal("TERM", 25);
      } finally {
        other.join();
      }
      assertEnd(child, first, b, 143, "TERMINATED");
      assertEquals(1, child.count("SIGTERM received: shutting down"), child.output());
      child.assertOrder(
          "SIGTERM received: shutting down",
          "layer 'L3' torn down",
          "layer 'L2' torn down",
          "layer 'L1' torn down");
    }
  }

  /** SIGINT starts the shutdown; the SIGTERMs after it only print the time left: 130. */
  void intThenTerms() throws Exception {
    Budget b = Budget.ROOMY;
    try (ChildJvm child = start(b, "hold-teardown=L2")) {
      child.awaitLine("child: main running");
      long first = child.signal("INT", 1);
      child.awaitLine("child: L2 holding teardown");
      try (Sender ignored = termsUntilGone(child)) {
        child.awaitLine("SIGTERM received again: already shutting down");
        child.tell("release");
        assertEnd(child, first, b, 130, "INTERRUPTED");
      }
      child.assertOrder(
          "SIGINT received: shutting down",
          "SIGTERM received again",
          "child: L2 released",
          "layer 'L1' torn down");
      assertFalse(child.has("SIGTERM received: shutting down"), child.output());
    }
  }

  /**
   * A must-finish task would hold the shutdown for the whole grace (30 s); a second SIGINT forces
   * it: 130, gone within two kill timeouts of the second SIGINT.
   */
  void secondIntForces() throws Exception {
    Budget b = new Budget(30_000, 1000, 500);
    try (ChildJvm child = start(b, "must-finish")) {
      child.awaitLine("child: must-finish running");
      child.awaitLine("child: main running");
      long first = child.signal("INT", 1);
      child.awaitLine("stopping supervisor 'storm/background': waiting for 1 must-finish");
      long second = child.signal("INT", 1);
      try (Sender ignored = termsUntilGone(child)) {
        assertEnd(child, first, b, 130, "INTERRUPTED");
      }
      Duration sinceForced = Duration.ofNanos(child.exitedNanos() - second);
      Duration bound = Duration.ofMillis(2 * b.kill).plus(EXIT_ALLOWANCE);
      assertTrue(
          sinceForced.compareTo(bound) < 0,
          "exited " + sinceForced + " after the second SIGINT; bound " + bound);
      child.assertOrder(
          "SIGINT received: shutting down",
          "SIGINT received again: forcing the shutdown",
          "child: must-finish ended",
          "layer 'L1' torn down");
    }
  }

  /** L2's teardown ignores cancellation: the runner gives up at its deadline, exit 4. */
  void termsWhileTeardownHangs() throws Exception {
    Budget b = Budget.SHORT;
    try (ChildJvm child = start(b, "hang-teardown=L2")) {
      child.awaitLine("child: main running");
      long first = child.signal("TERM", 1);
      child.awaitLine("child: L2 teardown hanging");
      try (Sender ignored = termsUntilGone(child)) {
        assertEnd(child, first, b, 4, "WORK_ABANDONED");
      }
      assertTrue(child.lines().getLast().text().endsWith(" (gave up waiting)"), child.output());
      child.assertOrder(
          "SIGTERM received: shutting down",
          "child: L2 teardown hanging",
          "hard deadline reached",
          "child: L2 teardown ignoring an interrupt",
          "giving up: the application has not ended");
      assertFalse(child.has("layer 'L1' torn down"), child.output());
    }
  }

  /** L2's teardown blocks until the hard deadline cancels it: a teardown failure, exit 1. */
  void termsWhileTeardownIsStuck() throws Exception {
    Budget b = Budget.SHORT;
    try (ChildJvm child = start(b, "stuck-teardown=L2")) {
      child.awaitLine("child: main running");
      long first = child.signal("TERM", 1);
      child.awaitLine("child: L2 teardown stuck");
      try (Sender ignored = termsUntilGone(child)) {
        assertEnd(child, first, b, 1, "FAILED");
      }
      child.assertOrder(
          "SIGTERM received: shutting down",
          "child: L2 teardown stuck",
          "hard deadline reached",
          "layer 'L2' torn down with a failure",
          "layer 'L1' torn down");
    }
  }

  // ---- helpers

  private static ChildJvm start(Budget b, String... args) throws Exception {
    List<String> all = new ArrayList<>(b.args());
    all.addAll(List.of(args));
    return ChildJvm.start(StormChild.class, all);
  }

  /** A sender of SIGTERMs, one after another, until the process is gone; closing joins it. */
  private interface Sender extends AutoCloseable {
    @Override
    void close() throws InterruptedException;
  }

  private static Sender termsUntilGone(ChildJvm child) {
    Thread t =
        Thread.ofPlatform()
            .name("storm of SIGTERMs")
            .start(
                () -> {
                  while (child.term()) Thread.onSpinWait();
                });
    return () -> {
      if (child.isAlive()) fail("closing the SIGTERM stream of a live process");
      t.join();
    };
  }

  private static final Pattern STACK_LINE = Pattern.compile("^\\s+at \\S+\\(.*\\)$");

  /**
   * Waits for the exit and checks the promises of the class comment: the exit code, the one last
   * line, the hard deadline counted from {@code firstSignal}, no stack trace unless by design.
   */
  private static void assertEnd(
      ChildJvm child, long firstSignal, Budget b, int code, String outcome)
      throws InterruptedException {
    int exit = child.awaitExit();
    String out = child.output();
    assertEquals(code, exit, "exit code; output:\n" + out);
    List<ChildJvm.Line> lines = child.lines();
    List<ChildJvm.Line> stopped =
        lines.stream().filter(l -> l.text().contains("] storm: stopped ")).toList();
    assertEquals(1, stopped.size(), "one 'stopped' line; output:\n" + out);
    String last = stopped.getFirst().text();
    assertEquals(lines.getLast(), stopped.getFirst(), "the 'stopped' line is the last:\n" + out);
    assertTrue(
        Pattern.compile(
                "^\\[ *\\d+\\.\\d\\d s\\] storm: stopped \\d+ ms after the shutdown request: "
                    + outcome
                    + ", exit code "
                    + code
                    + "(;.*| \\(gave up waiting\\))?$")
            .matcher(last)
            .matches(),
        "the last line: " + last);
    Duration took = Duration.ofNanos(child.exitedNanos() - firstSignal);
    lastTookMillis = took.toMillis();
    Duration bound = b.hardDeadlineAndKill().plus(EXIT_ALLOWANCE);
    assertTrue(
        took.compareTo(bound) < 0,
        "gone " + took + " after the first signal; bound " + bound + "; output:\n" + out);
    assertFalse(out.contains("Exception in thread"), "an uncaught exception:\n" + out);
    if (code == 0 || code == 130 || code == 143) {
      assertTrue(
          lines.stream().noneMatch(l -> STACK_LINE.matcher(l.text()).matches()),
          "a stack trace in a clean stop:\n" + out);
    }
  }
}
