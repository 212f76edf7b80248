package dev.lifespan.bench;

import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import dev.lifespan.Task;
import dev.lifespan.TaskGroup;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * Benchmark 4, memory; a bounded program, not JMH.
 *
 * <ol>
 *   <li><b>Retention</b>: {@code total} trivial children pass through one long-lived {@link
 *       TaskGroup}, in batches that are joined before the next starts; used heap after GC is read
 *       at every quarter. The group must retain nothing of ended children, so the readings must
 *       stay flat. The same through one long-lived {@link Supervisor} (batches of spawns, each
 *       followed by {@code awaitIdle}).
 *   <li><b>Per parked child</b>: {@code parked} children blocked in {@link LockSupport#park()}
 *       inside one TaskGroup, and as many tasks (spawned with one shared name) inside one {@link
 *       Supervisor}, against as many bare parked virtual threads; the used-heap delta after GC
 *       divided by the count is the cost of one thread. Each kind is measured {@code rounds} times,
 *       alternating; the first round is a warm-up, the result is the median of the others. With
 *       {@code -Dhistograms=true}, the last round also prints, class by class, what one parked
 *       thread retains (live-object histograms before and after).
 * </ol>
 *
 * <p>Arguments (all optional): {@code total parked rounds}; defaults 1000000 100000 4. Run with a
 * fixed heap, e.g. {@code -Xms4g -Xmx4g}, and no other load on the JVM.
 */
public final class MemoryHarness {
  private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();
  private static final Duration SETUP_LIMIT = Duration.ofSeconds(120);
  private static final int BATCH = 10_000;

  private MemoryHarness() {}

  public static void main(String[] args) throws Exception {
    int total = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int parked = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 4;
    if (total % (4 * BATCH) != 0) {
      throw new IllegalArgumentException("total must be a multiple of " + 4 * BATCH + ": " + total);
    }
    System.out.printf(
        "JVM %s, %s, max heap %d MiB, GC %s%n",
        Runtime.version(),
        System.getProperty("os.arch"),
        Runtime.getRuntime().maxMemory() >> 20,
        ManagementFactory.getGarbageCollectorMXBeans().getFirst().getName());
    retention(total);
    supervisorRetention(total);
    rawRetention(total);
    perParkedChild(parked, rounds);
  }

  // ---- (a) retention through one long-lived group

  private static void retention(int total) {
    System.out.printf(
        "%n(a) used heap after GC while %,d children complete in one TaskGroup%n", total);
    System.out.printf("%12s %14s %14s%n", "completed", "used (bytes)", "delta (bytes)");
    long[] first = {-1};
    TaskGroup.run(
        "long-lived",
        g -> {
          Task<?>[] batch = new Task<?>[BATCH];
          report(0, first);
          for (int done = 0; done < total; ) {
            for (int i = 0; i < BATCH; i++) batch[i] = g.spawn(() -> {});
            for (int i = 0; i < BATCH; i++) {
              batch[i].join();
              batch[i] = null;
            }
            done += BATCH;
            if (done % (total / 4) == 0) report(done, first);
          }
        });
  }

  /** (a) through one long-lived supervisor: batches of spawns, each followed by awaitIdle. */
  private static void supervisorRetention(int total) {
    System.out.printf(
        "%n(a, supervisor) the same with %,d tasks through one long-lived Supervisor%n", total);
    System.out.printf("%12s %14s %14s%n", "completed", "used (bytes)", "delta (bytes)");
    long[] first = {-1};
    try (Supervisor sup = Supervisor.open("long-lived")) {
      report(0, first);
      for (int done = 0; done < total; ) {
        for (int i = 0; i < BATCH; i++) sup.spawn("worker", () -> {});
        sup.awaitIdle();
        done += BATCH;
        if (done % (total / 4) == 0) report(done, first);
      }
    }
  }

  /** Control for (a): the same batches as raw virtual threads, to show the JVM's own drift. */
  private static void rawRetention(int total) throws InterruptedException {
    System.out.printf(
        "%n(a, control) the same with %,d raw virtual threads, no TaskGroup%n", total);
    System.out.printf("%12s %14s %14s%n", "completed", "used (bytes)", "delta (bytes)");
    long[] first = {-1};
    Thread[] batch = new Thread[BATCH];
    report(0, first);
    for (int done = 0; done < total; ) {
      for (int i = 0; i < BATCH; i++) batch[i] = Thread.ofVirtual().start(() -> {});
      for (int i = 0; i < BATCH; i++) {
        batch[i].join();
        batch[i] = null;
      }
      done += BATCH;
      if (done % (total / 4) == 0) report(done, first);
    }
  }

  private static void report(int completed, long[] first) {
    long used = stableUsedHeap();
    if (first[0] < 0) first[0] = used;
    System.out.printf("%,12d %,14d %,14d%n", completed, used, used - first[0]);
  }

  // ---- (b) heap per parked child

  private static void perParkedChild(int n, int rounds) throws InterruptedException {
    System.out.printf(
        "%n(b) used heap per parked thread, %,d threads parked in LockSupport.park()%n", n);
    System.out.printf(
        "%6s %22s %22s %8s %22s %8s%n",
        "round",
        "bare virtual (B/thr)",
        "TaskGroup (B/thr)",
        "ratio",
        "Supervisor (B/thr)",
        "ratio");
    double[] raw = new double[rounds];
    double[] group = new double[rounds];
    double[] sup = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      boolean last = r == rounds - 1;
      raw[r] = bareThreads(n, last && HISTOGRAMS);
      group[r] = groupChildren(n, last && HISTOGRAMS);
      sup[r] = supervisorTasks(n, last && HISTOGRAMS);
      System.out.printf(
          Locale.ROOT,
          "%6s %22.0f %22.0f %8.3f %22.0f %8.3f%n",
          r == 0 ? "warmup" : Integer.toString(r),
          raw[r],
          group[r],
          group[r] / raw[r],
          sup[r],
          sup[r] / raw[r]);
    }
    double rawMedian = median(raw, 1), groupMedian = median(group, 1), supMedian = median(sup, 1);
    System.out.printf(
        Locale.ROOT,
        "result (median of the rounds after warm-up): bare %.0f B/thread, TaskGroup child %.0f"
            + " B/thread, ratio %.3f; Supervisor task %.0f B/thread, ratio %.3f (goal <= 1.25)%n",
        rawMedian,
        groupMedian,
        groupMedian / rawMedian,
        supMedian,
        supMedian / rawMedian);
  }

  private static double median(double[] values, int from) {
    double[] v = Arrays.copyOfRange(values, Math.min(from, values.length - 1), values.length);
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static void parkUntilInterrupted(CountDownLatch parked) {
    parked.countDown();
    while (!Thread.currentThread().isInterrupted()) LockSupport.park();
  }

  private static double bareThreads(int n, boolean histogram) throws InterruptedException {
    Thread[] threads = new Thread[n];
    CountDownLatch parked = new CountDownLatch(n);
    long before = stableUsedHeap();
    Map<String, long[]> histoBefore = histogram ? classHistogram() : null;
    for (int i = 0; i < n; i++) {
      threads[i] = Thread.ofVirtual().start(() -> parkUntilInterrupted(parked));
    }
    awaitParked(parked, threads);
    long after = stableUsedHeap();
    if (histogram) printHistogramDelta("bare virtual threads", histoBefore, classHistogram(), n);
    for (Thread t : threads) t.interrupt();
    for (Thread t : threads) t.join();
    return (double) (after - before) / n;
  }

  private static double groupChildren(int n, boolean histogram) throws InterruptedException {
    Thread[] threads = new Thread[n];
    CountDownLatch parked = new CountDownLatch(n);
    AtomicReference<TaskGroup> group = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch ownerReady = new CountDownLatch(1);
    CountDownLatch spawn = new CountDownLatch(1);
    Thread owner =
        Thread.ofPlatform()
            .name("group-owner")
            .start(
                () -> {
                  try {
                    TaskGroup.run(
                        "parked",
                        g -> {
                          group.set(g);
                          ownerReady.countDown();
                          spawn.await();
                          for (int i = 0; i < n; i++) {
                            int index = i;
                            g.spawn(
                                () -> {
                                  threads[index] = Thread.currentThread();
                                  parkUntilInterrupted(parked);
                                });
                          }
                        });
                  } catch (Throwable t) {
                    failure.set(t);
                  }
                });
    ownerReady.await();
    long before = stableUsedHeap(); // the owner and its open, empty group are in the baseline
    Map<String, long[]> histoBefore = histogram ? classHistogram() : null;
    spawn.countDown();
    awaitParked(parked, threads);
    long after = stableUsedHeap();
    if (histogram) printHistogramDelta("TaskGroup children", histoBefore, classHistogram(), n);
    group.get().cancel();
    owner.join();
    if (failure.get() != null) throw new IllegalStateException("group failed", failure.get());
    return (double) (after - before) / n;
  }

  /**
   * Tasks of one supervisor, opened on this thread outside any scope; all spawned with the same
   * name (a name is required; a shared one adds no string per task). The empty supervisor is in the
   * baseline.
   */
  private static double supervisorTasks(int n, boolean histogram) throws InterruptedException {
    Thread[] threads = new Thread[n];
    CountDownLatch parked = new CountDownLatch(n);
    Supervisor sup = Supervisor.open("parked");
    long before = stableUsedHeap();
    Map<String, long[]> histoBefore = histogram ? classHistogram() : null;
    for (int i = 0; i < n; i++) {
      int index = i;
      sup.spawn(
          "parked",
          () -> {
            threads[index] = Thread.currentThread();
            parkUntilInterrupted(parked);
          });
    }
    awaitParked(parked, threads);
    long after = stableUsedHeap();
    if (histogram) printHistogramDelta("Supervisor tasks", histoBefore, classHistogram(), n);
    ShutdownReport r = sup.shutdown(Duration.ofSeconds(30));
    // a task returns normally once interrupted, so it counts as completed
    if (r.completed() != n || !r.clean()) throw new IllegalStateException("unexpected: " + r);
    return (double) (after - before) / n;
  }

  private static void awaitParked(CountDownLatch parked, Thread[] threads)
      throws InterruptedException {
    if (!parked.await(SETUP_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
      throw new IllegalStateException("threads did not start: " + parked.getCount() + " left");
    }
    Parked.awaitAllBlocked(threads, SETUP_LIMIT);
  }

  // ---- measuring

  /** Whether to print, in the last round of (b), what one parked thread retains, class by class. */
  private static final boolean HISTOGRAMS = Boolean.getBoolean("histograms");

  /** Live-object histogram (after a full GC): class name to {instances, bytes}. */
  private static Map<String, long[]> classHistogram() {
    String text;
    try {
      text =
          (String)
              ManagementFactory.getPlatformMBeanServer()
                  .invoke(
                      new ObjectName("com.sun.management:type=DiagnosticCommand"),
                      "gcClassHistogram",
                      new Object[] {new String[0]},
                      new String[] {String[].class.getName()});
    } catch (JMException e) {
      throw new IllegalStateException("class histogram unavailable", e);
    }
    Map<String, long[]> histogram = new HashMap<>();
    for (String line : text.split("\\R")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 4 && f[0].endsWith(":")) {
        histogram.put(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
      }
    }
    return histogram;
  }

  private static void printHistogramDelta(
      String what, Map<String, long[]> before, Map<String, long[]> after, int n) {
    record Row(String type, double instances, double bytes) {}
    List<Row> rows = new ArrayList<>();
    for (var e : after.entrySet()) {
      long[] b = before.getOrDefault(e.getKey(), new long[2]);
      double bytes = (double) (e.getValue()[1] - b[1]) / n;
      if (Math.abs(bytes) >= 1) {
        rows.add(new Row(e.getKey(), (double) (e.getValue()[0] - b[0]) / n, bytes));
      }
    }
    rows.sort(Comparator.comparingDouble(r -> -r.bytes()));
    System.out.printf("       retained per thread, %s (instances, bytes):%n", what);
    double total = 0;
    for (Row r : rows) {
      total += r.bytes();
      System.out.printf(
          Locale.ROOT, "         %6.2f %7.1f  %s%n", r.instances(), r.bytes(), r.type());
    }
    System.out.printf(Locale.ROOT, "         total %7.1f%n", total);
  }

  /**
   * Used heap after full GCs, repeated until two consecutive readings differ by less than 64 KiB
   * (at most 10 times): the live set, without garbage.
   */
  static long stableUsedHeap() {
    long previous = -1;
    for (int i = 0; i < 10; i++) {
      System.gc();
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      long used = MEMORY.getHeapMemoryUsage().getUsed();
      if (previous >= 0 && Math.abs(used - previous) < 64 * 1024) return used;
      previous = used;
    }
    return previous;
  }
}
