package dev.lifespan.leakcheck.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LeakCheckTest {
  /** Ends the threads a test leaves blocked; counted down after each test. */
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void endBlockedThreads() {
    release.countDown();
  }

  @Test
  void listsVirtualAndPlatformThreadsWithNamesAndStacks() {
    String awkward = "quote\" backslash\\ slash/ newline\n unicode \u00e9";
    Thread virtual = Thread.ofVirtual().name(awkward).start(this::awaitRelease);
    Thread platform = Thread.ofPlatform().daemon().name("p").start(this::awaitRelease);
    awaitWaiting(virtual);
    awaitWaiting(platform);

    List<LiveThread> all = LiveThread.all();

    LiveThread v = find(all, virtual);
    assertEquals(awkward, v.name());
    assertTrue(v.virtual());
    assertHasFrame(v, "java.base/java.util.concurrent.CountDownLatch.await(CountDownLatch.java:");
    LiveThread p = find(all, platform);
    assertEquals("p", p.name());
    assertFalse(p.virtual());
    assertHasFrame(p, "java.base/java.util.concurrent.CountDownLatch.await(CountDownLatch.java:");
  }

  @Test
  void newThreadsAreThoseStartedSinceExceptInfrastructureAndAllowed() {
    Thread.ofVirtual().name("old").start(this::awaitRelease);
    LeakCheck check = LeakCheck.start();
    Thread.ofVirtual().name("lifespan-timer").start(this::awaitRelease);
    Thread.ofVirtual().name("allowed").start(this::awaitRelease);
    Thread fresh = Thread.ofVirtual().name("new").start(this::awaitRelease);

    List<LiveThread> found = check.newThreads(name -> name.equals("allowed"));

    assertEquals(List.of(fresh.threadId()), found.stream().map(LiveThread::tid).toList());
  }

  @Test
  void interruptStatusSetOnEntryDoesNotShortenWaitAndIsKept() {
    LeakCheck check = LeakCheck.start();
    Thread.ofVirtual().name("leak").start(this::awaitRelease);
    Thread.currentThread().interrupt();

    LeakCheck.Leaks leaks = check.awaitEnd(name -> false, Duration.ofMillis(20));

    assertTrue(Thread.interrupted());
    assertFalse(leaks.interrupted());
    assertEquals(Duration.ofMillis(20), leaks.waited());
    assertEquals(1, leaks.threads().size());
  }

  @Test
  void interruptDuringWaitEndsItAndStaysSet() {
    LeakCheck check = LeakCheck.start();
    Thread tester = Thread.currentThread();
    Thread.ofVirtual()
        .name("interrupter")
        .start(
            () -> {
              while (!isInGraceWait(tester)) {
                Thread.onSpinWait();
              }
              tester.interrupt();
              awaitRelease();
            });

    LeakCheck.Leaks leaks = check.awaitEnd(name -> false, Duration.ofDays(1));

    assertTrue(Thread.interrupted());
    assertTrue(leaks.interrupted());
    assertEquals("interrupter", leaks.threads().getFirst().name());
    assertTrue(
        leaks.report("t()").contains("after it ended (the wait for them was interrupted):\n"));
  }

  @Test
  void reportNamesUnnamedThreadsAndTruncatesDeepStacks() {
    List<String> stack = Collections.nCopies(70, "m.C.f(C.java:1)");
    var leaks =
        new LeakCheck.Leaks(
            List.of(new LiveThread(5, "", true, "WAITING", stack)), Duration.ofMillis(7), false);

    String report = leaks.report("t()");

    assertTrue(
        report.startsWith(
            "Test t() leaked 1 thread(s) still running 7 ms after it ended:\n"
                + "  unnamed thread (virtual, #5, WAITING)\n    at m.C.f(C.java:1)\n"),
        report);
    assertEquals(64, report.split("\n    at ", -1).length - 1, report);
    assertTrue(report.contains("\n    ... 6 more\n"), report);
  }

  private static boolean isInGraceWait(Thread tester) {
    return tester.getState() == Thread.State.TIMED_WAITING
        && Arrays.stream(tester.getStackTrace())
            .anyMatch(f -> f.getClassName().equals(LeakCheck.class.getName()));
  }

  private static void awaitWaiting(Thread thread) {
    while (thread.getState() != Thread.State.WAITING) {
      Thread.onSpinWait();
    }
  }

  private static LiveThread find(List<LiveThread> all, Thread thread) {
    return all.stream().filter(t -> t.tid() == thread.threadId()).findFirst().orElseThrow();
  }

  private static void assertHasFrame(LiveThread thread, String prefix) {
    assertTrue(
        thread.stack().stream().anyMatch(f -> f.startsWith(prefix)),
        () -> "No frame " + prefix + " in " + thread.stack());
  }

  private void awaitRelease() {
    try {
      release.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
