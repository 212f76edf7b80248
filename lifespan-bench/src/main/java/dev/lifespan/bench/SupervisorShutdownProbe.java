package dev.lifespan.bench;

import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * Diagnostic for {@link SupervisorShutdownBench}; a bounded program, not JMH. Shuts down a
 * supervisor with {@code n} tasks parked in {@code Thread.sleep(Duration.ofDays(1))}, {@code
 * rounds} times, and prints for each round the shutdown's time and the young collections during it.
 * In the last round it also prints, every 20 ms while the shutdown runs, how many task threads are
 * in which state (and where the first {@code BLOCKED} one is blocked), and the durations of the
 * shutdown's phases from Lifespan's {@code dev.lifespan.ShutdownPhase} JFR events.
 *
 * <p>Arguments (optional): {@code n rounds}; defaults 100000 6.
 */
public final class SupervisorShutdownProbe {
  private static final Duration SETUP_LIMIT = Duration.ofSeconds(60);

  private SupervisorShutdownProbe() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 6;
    for (int r = 0; r < rounds; r++) round(n, r, r == rounds - 1);
  }

  private static void round(int n, int round, boolean detailed) throws Exception {
    System.gc();
    Thread[] threads = new Thread[n];
    CountDownLatch parked = new CountDownLatch(n);
    Supervisor sup = Supervisor.open("parked");
    for (int i = 0; i < n; i++) {
      int index = i;
      sup.spawn(
          "sleeper",
          () -> {
            threads[index] = Thread.currentThread();
            parked.countDown();
            Thread.sleep(Duration.ofDays(1));
          });
    }
    if (!parked.await(SETUP_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
      throw new IllegalStateException("tasks did not start");
    }
    Parked.awaitAllBlocked(threads, SETUP_LIMIT);
    System.gc();

    Recording recording = null;
    List<String> samples = new ArrayList<>();
    Thread sampler = null;
    AtomicBoolean stop = new AtomicBoolean();
    if (detailed) {
      recording = new Recording();
      recording.enable("dev.lifespan.ShutdownPhase");
      recording.start();
      sampler = Thread.ofPlatform().start(() -> sampleStates(threads, samples, stop));
    }
    long collections = youngCollections();
    long start = System.nanoTime();
    ShutdownReport report = sup.shutdown(Duration.ofSeconds(30));
    long took = System.nanoTime() - start;
    collections = youngCollections() - collections;
    System.out.printf(
        Locale.ROOT,
        "round %d: shutdown %.1f ms, %d young collections, %d cancelled, %d still running%n",
        round,
        took / 1e6,
        collections,
        report.cancelled(),
        report.stragglers().size());
    if (detailed) {
      stop.set(true);
      sampler.join();
      samples.forEach(System.out::println);
      recording.stop();
      Path file = Files.createTempFile("shutdown-probe", ".jfr");
      recording.dump(file);
      recording.close();
      for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
        if (!e.getEventType().getName().equals("dev.lifespan.ShutdownPhase")) continue;
        System.out.printf(
            Locale.ROOT,
            "  phase %-7s %8.1f ms%n",
            e.getString("phase"),
            e.getDuration().toNanos() / 1e6);
      }
      Files.delete(file);
    }
  }

  private static void sampleStates(Thread[] threads, List<String> out, AtomicBoolean stop) {
    long start = System.nanoTime();
    while (!stop.get()) {
      int[] count = new int[Thread.State.values().length];
      String blockedAt = null;
      for (Thread t : threads) {
        Thread.State s = t.getState();
        count[s.ordinal()]++;
        if (s == Thread.State.BLOCKED && blockedAt == null) {
          StackTraceElement[] st = t.getStackTrace();
          blockedAt = Arrays.toString(Arrays.copyOf(st, Math.min(2, st.length)));
        }
      }
      out.add(
          String.format(
              Locale.ROOT,
              "  %4d ms: sleeping %6d, runnable %6d, blocked %6d, ended %6d%s",
              (System.nanoTime() - start) / 1_000_000,
              count[Thread.State.TIMED_WAITING.ordinal()],
              count[Thread.State.RUNNABLE.ordinal()],
              count[Thread.State.BLOCKED.ordinal()],
              count[Thread.State.TERMINATED.ordinal()],
              blockedAt == null ? "" : "; blocked at " + blockedAt));
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static long youngCollections() {
    long c = 0;
    for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc.getName().contains("Young")) c += gc.getCollectionCount();
    }
    return c;
  }
}
