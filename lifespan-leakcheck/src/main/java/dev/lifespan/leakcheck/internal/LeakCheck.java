package dev.lifespan.leakcheck.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * One test's check for leaked threads: {@link #start()} lists the threads alive before the test;
 * after it, {@link #awaitEnd} waits a bounded time for the threads started since to end and returns
 * those that did not.
 *
 * <p>A thread is identified by its id, which the JDK never reuses. Threads whose names match {@link
 * #INFRASTRUCTURE} are never leaks.
 */
public final class LeakCheck {
  /**
   * Names of the JDK's and the test infrastructure's own long-lived threads, which start lazily (so
   * may start during any test) and are never leaks.
   */
  public static final Pattern INFRASTRUCTURE =
      Pattern.compile(
          String.join(
              "|",
              "ForkJoinPool-\\d+-worker-\\d+", // virtual thread carriers, JUnit's parallel workers
              "ForkJoinPool\\.commonPool-worker-\\d+",
              "ForkJoinPool-\\d+-delayScheduler", // timed parking of virtual threads (JDK 25)
              "ForkJoinPool\\.commonPool-delayScheduler",
              "VirtualThread-unparker|VirtualThread-unblocker",
              "MasterPoller|SubPoller-\\d+|Read-Poller|Write-Poller", // virtual thread I/O pollers
              "Reference Handler|Finalizer|Signal Dispatcher|Attach Listener|Notification Thread",
              "Service Thread|Monitor Deflation Thread|Sweeper thread|C[12] CompilerThread\\d+",
              "Common-Cleaner|process reaper.*|Keep-Alive-Timer|Keep-Alive-SocketCleaner",
              "DestroyJavaVM|JFR .*",
              "surefire-.*|junit-.*",
              "lifespan-timer"));

  private static final Duration FIRST_PAUSE = Duration.ofMillis(1);
  private static final Duration MAX_PAUSE = Duration.ofMillis(10);
  private static final int MAX_FRAMES = 64;

  private final Set<Long> before; // ids of the threads alive when the test started; never changes

  private LeakCheck(Set<Long> before) {
    this.before = before;
  }

  /** Lists the threads alive now, to compare against after the test. */
  public static LeakCheck start() {
    Set<Long> ids = new HashSet<>();
    for (LiveThread t : LiveThread.all()) {
      ids.add(t.tid());
    }
    return new LeakCheck(ids);
  }

  /**
   * Returns the threads alive now that were not alive at {@link #start()} and whose names match
   * neither {@link #INFRASTRUCTURE} nor {@code allowed}, ordered by id.
   */
  public List<LiveThread> newThreads(Predicate<String> allowed) {
    List<LiveThread> found = new ArrayList<>();
    for (LiveThread t : LiveThread.all()) {
      if (!before.contains(t.tid())
          && !INFRASTRUCTURE.matcher(t.name()).matches()
          && !allowed.test(t.name())) {
        found.add(t);
      }
    }
    found.sort(Comparator.comparingLong(LiveThread::tid));
    return found;
  }

  /**
   * Waits up to {@code grace} for every {@linkplain #newThreads new thread} to end, re-listing the
   * threads every few milliseconds, and returns those still alive.
   *
   * <p>Interruption: an interrupt while waiting ends the wait early (the result says so) and stays
   * set; an interrupt status already set on entry does not shorten the wait and is restored.
   *
   * @param allowed names of threads that are not leaks
   * @param grace how long the new threads may take to end; zero checks once
   */
  public Leaks awaitEnd(Predicate<String> allowed, Duration grace) {
    long start = System.nanoTime();
    boolean interrupted = Thread.interrupted(); // the test's status; not ours to act on
    try {
      Duration pause = FIRST_PAUSE;
      while (true) {
        List<LiveThread> leaks = newThreads(allowed);
        Duration waited = Duration.ofNanos(System.nanoTime() - start);
        if (leaks.isEmpty()) {
          return new Leaks(leaks, waited, false);
        } else if (waited.compareTo(grace) >= 0) {
          return new Leaks(leaks, grace, false);
        }
        try {
          Thread.sleep(grace.minus(waited).compareTo(pause) < 0 ? grace.minus(waited) : pause);
        } catch (InterruptedException e) {
          interrupted = true;
          return new Leaks(leaks, Duration.ofNanos(System.nanoTime() - start), true);
        }
        Duration doubled = pause.multipliedBy(2);
        pause = doubled.compareTo(MAX_PAUSE) < 0 ? doubled : MAX_PAUSE;
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The outcome of {@link #awaitEnd}.
   *
   * @param threads the leaked threads, ordered by id; empty if none
   * @param waited how long the new threads were given to end: the grace period if some leaked (less
   *     if the wait was interrupted), else the time until the last of them ended
   * @param interrupted whether the wait was cut short by an interrupt
   */
  public record Leaks(List<LiveThread> threads, Duration waited, boolean interrupted) {
    /** Whether no thread leaked. */
    public boolean isEmpty() {
      return threads.isEmpty();
    }

    /** A multi-line report naming each leaked thread with its stack, for a test's failure. */
    public String report(String testName) {
      StringBuilder sb = new StringBuilder();
      sb.append("Test ").append(testName).append(" leaked ").append(threads.size());
      sb.append(" thread(s) still running ").append(waited.toMillis()).append(" ms after it ended");
      sb.append(interrupted ? " (the wait for them was interrupted):\n" : ":\n");
      for (LiveThread t : threads) {
        sb.append("  ").append(t.name().isEmpty() ? "unnamed thread" : "thread '" + t.name() + "'");
        sb.append(" (").append(t.virtual() ? "virtual" : "platform").append(", #").append(t.tid());
        sb.append(", ").append(t.state()).append(")\n");
        List<String> stack = t.stack();
        if (stack.isEmpty()) {
          sb.append("    (no Java frames)\n");
        }
        for (String frame : stack.subList(0, Math.min(stack.size(), MAX_FRAMES))) {
          sb.append("    at ").append(frame).append('\n');
        }
        if (stack.size() > MAX_FRAMES) {
          sb.append("    ... ").append(stack.size() - MAX_FRAMES).append(" more\n");
        }
      }
      sb.append(
          "End them before the test returns, or allow them with @NoLeaks(allow = \"regex\").");
      return sb.toString();
    }
  }
}
