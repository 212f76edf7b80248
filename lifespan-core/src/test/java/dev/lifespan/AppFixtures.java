package dev.lifespan;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/** Helpers for the tests of lifespans and the application runner. */
final class AppFixtures {
  private AppFixtures() {}

  /** Progress lines of one application, with a way to wait for a line. */
  static final class Progress {
    final List<String> lines = new CopyOnWriteArrayList<>();
    private final List<Waiter> waiters = new CopyOnWriteArrayList<>();

    private record Waiter(Predicate<String> match, CountDownLatch seen) {}

    void accept(String line) {
      lines.add(line);
      for (Waiter w : waiters) {
        if (w.match.test(line)) w.seen.countDown();
      }
    }

    /** Waits (bounded) until a line containing {@code text} was printed; returns the first. */
    String awaitLine(String text) throws InterruptedException {
      awaitLines(text, 1);
      return lines.stream().filter(l -> l.contains(text)).findFirst().orElseThrow();
    }

    /** Waits (bounded) until {@code count} lines containing {@code text} were printed. */
    void awaitLines(String text, int count) throws InterruptedException {
      CountDownLatch seen = new CountDownLatch(count);
      Waiter w = new Waiter(l -> l.contains(text), seen);
      waiters.add(w);
      for (String l : lines) {
        if (l.contains(text)) seen.countDown();
      }
      if (!seen.await(1, TimeUnit.MINUTES)) {
        throw new AssertionError(
            count + " progress lines containing '" + text + "' expected in " + lines);
      }
    }

    boolean any(String text) {
      return lines.stream().anyMatch(l -> l.contains(text));
    }

    @Override
    public String toString() {
      return String.join("\n", lines);
    }
  }

  /**
   * Options with a generous grace, progress going to {@code progress}, and no repeated progress
   * lines unless a test asks for them (an interval of an hour).
   */
  static App.Options options(String name, Progress progress) {
    return App.Options.named(name)
        .withGrace(Duration.ofSeconds(30))
        .withProgress(progress::accept)
        .withProgressInterval(Duration.ofHours(1));
  }

  /** A layer that records its start and stop in {@code log}. */
  static Lifespan recording(String name, List<String> log) {
    return Lifespan.named(
        name,
        ctx -> {
          log.add("start " + name);
          ctx.proceed();
          log.add("stop " + name);
        });
  }

  /**
   * Waits at most a minute of real time for the application's result, whatever its clock ({@link
   * App#await(Duration)} waits on the application's clock, which on a fake one moves only when the
   * test advances it).
   */
  static App.Result result(App app) throws Exception {
    FutureTask<App.Result> result = new FutureTask<>(app::await);
    Thread.ofVirtual().name("result of app '" + app.name() + "'").start(result);
    try {
      return result.get(1, TimeUnit.MINUTES);
    } catch (TimeoutException e) {
      throw new AssertionError("application '" + app.name() + "' did not end");
    }
  }

  /**
   * Waits (bounded, in real time) until {@code clock} has at least {@code count} pending deadlines
   * and timed waits: that is, until threads have begun the timed waits a test is about to move time
   * past (a wait that begins after the clock moved would count from then).
   */
  static void awaitPending(TimeSource clock, int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (clock.pendingDeadlines() < count) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            count + " pending deadlines expected on " + clock + ": " + clock.pendingDeadlines());
      }
      Thread.yield(); // no event signals a new timed wait: poll
    }
  }

  /** Waits for the runner thread of application {@code name} to end, after it was abandoned. */
  static void joinRunner(String name) throws InterruptedException {
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("app '" + name + "'")) t.join(60_000);
    }
  }
}
