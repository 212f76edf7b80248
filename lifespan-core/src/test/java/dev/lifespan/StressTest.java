package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Thousands of groups with random children (returning, failing, blocking, swallowing interrupts,
 * spawning, timing out) and random cancel points, owned by several threads at once. Asserts for
 * each group: the outcome is one the random plan allows, every failure that comes out is an
 * injected one and none twice, every child thread ends, and the owner's interrupt flag is clear.
 *
 * <p>Short by default; {@code -Dlifespan.stress.mode=long} runs fifty times more groups.
 */
class StressTest {
  private static final Duration FOREVER = Duration.ofDays(1);
  private static final boolean LONG = "long".equals(System.getProperty("lifespan.stress.mode"));
  private static final String INJECTED = "injected failure";

  static Stream<Arguments> kinds() {
    int scale = LONG ? 50 : 1;
    return Stream.of(
        Arguments.of("virtual", null, 2000 * scale),
        Arguments.of("platform", "platform", 400 * scale));
  }

  @ParameterizedTest(name = "{0} threads, {2} groups")
  @MethodSource("kinds")
  void randomGroupsEndCleanly(String kind, String platform, int groups) throws Exception {
    long seed = System.nanoTime();
    int owners = 4;
    AtomicInteger done = new AtomicInteger();
    ConcurrentLinkedQueue<Throwable> problems = new ConcurrentLinkedQueue<>();
    List<Thread> ownerThreads = new ArrayList<>();
    for (int o = 0; o < owners; o++) {
      long ownerSeed = seed + o;
      ownerThreads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    SplittableRandom random = new SplittableRandom(ownerSeed);
                    for (int i = 0; i < groups / owners; i++) {
                      long groupSeed = random.nextLong();
                      try {
                        oneGroup(new SplittableRandom(groupSeed), platform != null);
                        done.incrementAndGet();
                      } catch (Throwable t) {
                        problems.add(new AssertionError("group seed " + groupSeed + ": " + t, t));
                        return;
                      }
                    }
                  }));
    }
    for (Thread t : ownerThreads) t.join();
    if (!problems.isEmpty()) throw (AssertionError) problems.peek();
    assertEquals(groups / owners * owners, done.get(), kind + " seed " + seed);
  }

  private void oneGroup(SplittableRandom r, boolean platform) throws Exception {
    ConcurrentLinkedQueue<Thread> threads = new ConcurrentLinkedQueue<>();
    ThreadFactory base = platform ? Fixtures.platform() : Thread.ofVirtual().factory();
    ThreadFactory tracking =
        task -> {
          Thread t = base.newThread(task);
          threads.add(t);
          return t;
        };
    int children = 1 + r.nextInt(8);
    int[] plan = new int[children];
    int failing = 0;
    boolean blocking = false;
    for (int i = 0; i < children; i++) {
      plan[i] = r.nextInt(7);
      if (plan[i] == 1) failing++;
      if (plan[i] == 2 || plan[i] == 4) blocking = true;
    }
    int cancelAt = r.nextInt(children + 1); // cancel the group before spawning child #cancelAt
    boolean cancel = blocking || r.nextInt(4) == 0;
    boolean viaOuter = r.nextBoolean();
    int totalFailing = failing;
    Throwable thrown = null;
    CancelScope outer = null;
    try {
      outer =
          CancelScope.run(
              CancelScope.Options.named("outer"),
              o ->
                  TaskGroup.run(
                      "stress",
                      tracking,
                      g -> {
                        for (int i = 0; i < children; i++) {
                          if (cancel && i == cancelAt) cancelFrom(o, g, viaOuter);
                          int behaviour = plan[i];
                          g.spawn(() -> child(behaviour, g));
                        }
                        if (cancel && cancelAt == children) cancelFrom(o, g, viaOuter);
                      }));
    } catch (TaskFailedException e) {
      thrown = e;
    }
    assertFalse(Thread.currentThread().isInterrupted(), "interrupt flag leaked");
    if (thrown != null) {
      List<Throwable> all = new ArrayList<>(List.of(thrown));
      all.addAll(List.of(thrown.getSuppressed()));
      assertTrue(all.size() <= totalFailing, all.size() + " failures from " + totalFailing);
      for (Throwable t : all) assertEquals(INJECTED, t.getCause().getMessage(), t.toString());
    } else {
      assertTrue(cancel || totalFailing == 0, "a failure went missing");
      assertTrue(!cancel || !viaOuter || outer.isCancelledCaught());
    }
    for (Thread t : threads) {
      t.join(Duration.ofMinutes(1));
      assertFalse(t.isAlive(), "thread still alive: " + t);
    }
  }

  private static void cancelFrom(CancelScope outer, TaskGroup g, boolean viaOuter) {
    if (viaOuter) outer.cancel("stress");
    else g.cancel("stress");
  }

  private static void child(int behaviour, TaskGroup g) throws Exception {
    switch (behaviour) {
      case 0 -> {}
      case 1 -> throw new IllegalStateException(INJECTED);
      case 2 -> Thread.sleep(FOREVER);
      case 3 -> {
        for (int i = 0; i < 1000; i++) CancelScope.checkpoint();
      }
      case 4 -> {
        try {
          Thread.sleep(FOREVER);
        } catch (InterruptedException swallowed) {
          // user code that swallows the interrupt: the next checkpoint raises it again
        }
        CancelScope.checkpoint();
        throw new AssertionError("checkpoint let a cancelled task through");
      }
      case 5 -> g.spawn(() -> {});
      default -> {
        CountDownLatch never = new CountDownLatch(1);
        CancelScope.run(
            CancelScope.Options.DEFAULT.withTimeout(Duration.ofNanos(1)), s -> never.await());
      }
    }
  }
}
