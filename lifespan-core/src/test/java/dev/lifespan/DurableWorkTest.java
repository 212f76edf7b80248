package dev.lifespan;

import static dev.lifespan.AppFixtures.options;
import static dev.lifespan.AppFixtures.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.AppFixtures.Progress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Durable work a layer reports ({@link Lifespan.Context#addDurablePending}, {@link
 * Lifespan.Context#addDurableFailed}) in the application's result and last line, and the items it
 * lists in dumps ({@link Lifespan.Context#listInDumps}).
 */
class DurableWorkTest {
  private final Progress progress = new Progress();
  private final TestClock clock = new TestClock();

  @Test
  void durableWorkLeftPendingIsCountedAndSaidWithoutChangingTheOutcome() throws Exception {
    App app =
        App.start(
            options("worker", progress).withClock(clock),
            Lifespan.named(
                "journal",
                ctx -> {
                  ctx.proceed();
                  assertTrue(ctx.addDurablePending(2)); // teardown: what it leaves
                  assertTrue(ctx.addDurablePending(1)); // a second call adds
                  assertTrue(ctx.addDurablePending(0));
                }),
            null);
    assertTrue(app.awaitReady());
    clock.advance(Duration.ofMillis(1250));
    app.signal(App.Signal.TERM);
    App.Result r = result(app);
    assertEquals(App.Outcome.TERMINATED, r.outcome(), "pending durable work is not lost");
    assertEquals(143, r.exitCode());
    assertEquals(3, r.durablePending());
    assertEquals(0, r.durableFailed());
    assertEquals(
        "[  1.25 s] worker: stopped: TERMINATED, exit code 143;"
            + " 3 durable entries left pending for the next start",
        progress.lines.getLast());
  }

  @Test
  void anEntryCutAtTheEndOfTheGraceIsAnAbandonedTaskAndADurableEntryLeftPending() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    AtomicInteger cut = new AtomicInteger();
    App app =
        App.start(
            options("worker", progress).withClock(clock).withGrace(Duration.ofSeconds(10)),
            Lifespan.named(
                "journal",
                ctx -> {
                  ctx.supervisor()
                      .spawnMustFinish(
                          "journal confirm/7",
                          () -> {
                            running.countDown();
                            try {
                              CancelScope.sleep(Duration.ofDays(1));
                            } finally {
                              cut.incrementAndGet(); // its transaction rolls back: still pending
                            }
                          });
                  ctx.proceed();
                  ctx.addDurablePending(cut.get());
                }),
            null);
    assertTrue(app.awaitReady());
    running.await();
    app.signal(App.Signal.TERM);
    progress.awaitLine("waiting for 1 must-finish: 'journal confirm/7'");
    clock.advance(Duration.ofSeconds(10));
    App.Result r = result(app);
    assertEquals(App.Outcome.WORK_ABANDONED, r.outcome(), "the task was cut: already abandoned");
    assertEquals(List.of("journal confirm/7"), r.abandoned());
    assertEquals(1, r.durablePending());
    assertEquals(
        "[ 10.00 s] worker: stopped 10000 ms after the shutdown request: WORK_ABANDONED, exit code"
            + " 4; 1 must-finish task abandoned at the end of the grace period:"
            + " 'journal confirm/7'; 1 durable entry left pending for the next start",
        progress.lines.getLast());
  }

  @Test
  void durableWorkThatFailedForGoodIsCountedFromAnyThreadWithoutChangingTheOutcome()
      throws Exception {
    CountDownLatch failed = new CountDownLatch(2);
    App app =
        App.start(
            options("worker", progress).withClock(clock),
            Lifespan.named(
                "journal",
                ctx -> {
                  for (int i = 0; i < 2; i++) {
                    ctx.supervisor()
                        .spawn(
                            "entry " + i,
                            () -> {
                              assertTrue(ctx.addDurableFailed(1));
                              failed.countDown();
                            });
                  }
                  ctx.proceed();
                }),
            null);
    assertTrue(app.awaitReady());
    failed.await();
    app.requestShutdown();
    App.Result r = result(app);
    assertEquals(App.Outcome.SUCCEEDED, r.outcome());
    assertEquals(0, r.exitCode());
    assertEquals(0, r.durablePending());
    assertEquals(2, r.durableFailed());
    assertEquals(
        "[  0.00 s] worker: stopped: SUCCEEDED, exit code 0; 2 durable entries failed for good",
        progress.lines.getLast());
  }

  @Test
  void bothCountsReadInOneLineAndOneEntryIsSingular() throws Exception {
    App app =
        App.start(
            options("worker", progress).withClock(clock),
            Lifespan.of(
                Lifespan.named(
                    "a",
                    ctx -> {
                      ctx.proceed();
                      ctx.addDurablePending(1);
                    }),
                Lifespan.named(
                    "b",
                    ctx -> {
                      ctx.addDurableFailed(1);
                      ctx.proceed();
                    })),
            null);
    assertTrue(app.awaitReady());
    app.requestShutdown();
    App.Result r = result(app);
    assertEquals(1, r.durablePending());
    assertEquals(1, r.durableFailed());
    assertEquals(
        "[  0.00 s] worker: stopped: SUCCEEDED, exit code 0;"
            + " 1 durable entry left pending for the next start; 1 durable entry failed for good",
        progress.lines.getLast());
  }

  @Test
  void countsAfterTheLayerReturnedAreRefusedAndNegativeCountsAreErrors() throws Exception {
    AtomicReference<Lifespan.Context> kept = new AtomicReference<>();
    App app =
        App.start(
            options("worker", progress).withClock(clock),
            Lifespan.named(
                "journal",
                ctx -> {
                  kept.set(ctx);
                  ctx.proceed();
                }),
            null);
    assertTrue(app.awaitReady());
    var negative =
        assertThrows(IllegalArgumentException.class, () -> kept.get().addDurablePending(-1));
    assertEquals("durable pending count < 0: -1", negative.getMessage());
    assertThrows(IllegalArgumentException.class, () -> kept.get().addDurableFailed(-2));
    app.requestShutdown();
    App.Result r = result(app);
    assertFalse(kept.get().addDurablePending(5), "after the layer returned");
    assertFalse(kept.get().addDurableFailed(5), "after the layer returned");
    assertEquals(0, r.durablePending());
    assertEquals(0, r.durableFailed());
    assertEquals("[  0.00 s] worker: stopped: SUCCEEDED, exit code 0", progress.lines.getLast());
  }

  @Test
  void aContextNotRunByAnAppCountsNothing() {
    Lifespan.Context bare =
        new Lifespan.Context() {
          @Override
          public String name() {
            return "bare";
          }

          @Override
          public String applicationName() {
            return "none";
          }

          @Override
          public void proceed() {}

          @Override
          public Supervisor supervisor() {
            throw new UnsupportedOperationException();
          }
        };
    assertFalse(bare.addDurablePending(1));
    assertFalse(bare.addDurableFailed(1));
    assertThrows(IllegalArgumentException.class, () -> bare.addDurablePending(-1));
    bare.listInDumps(limit -> List.of()); // ignored
  }

  // ---- dumps

  /** A source of {@code pending} pending entries, that lists at most {@code limit}. */
  private static TaskDump.EntrySource pendingEntries(int running, int pending) {
    return limit -> {
      List<TaskDump.Node> nodes = new ArrayList<>();
      for (int i = 0; i < running && nodes.size() < limit; i++)
        nodes.add(TaskDump.Node.entry("confirm/r" + i, "RUNNING", Duration.ofMillis(300)));
      int listedPending = 0;
      for (int i = 0; i < pending && nodes.size() < limit; i++, listedPending++)
        nodes.add(TaskDump.Node.entry("confirm/p" + i, "PENDING", Duration.ofSeconds(100 - i)));
      if (pending > listedPending)
        nodes.add(TaskDump.Node.more(pending - listedPending, "PENDING", Duration.ofSeconds(2)));
      return nodes;
    };
  }

  @Test
  void aLayersEntriesAreListedUnderItsNodeBoundedWithACountOfTheRest() throws Exception {
    App app =
        App.start(
            options("worker", progress).withClock(clock),
            Lifespan.of(
                Lifespan.named(
                    "journal",
                    ctx -> {
                      ctx.listInDumps(pendingEntries(2, 100_000));
                      ctx.supervisor().spawn("claims", () -> CancelScope.sleep(Duration.ofDays(1)));
                      ctx.proceed();
                    }),
                Lifespan.named("http", Lifespan.Context::proceed)),
            null);
    assertTrue(app.awaitReady());
    try {
      String text = app.dump(false).toText().replaceAll("\\d+ ms|\\d+\\.\\d s|\\d+ s", "AGE");
      List<String> expected = new ArrayList<>();
      expected.add("  layer 'journal' OPEN AGE");
      expected.add("    supervisor 'worker/journal' RUNNING AGE, 1 task");
      expected.add("      task 'claims' RUNNING AGE");
      expected.add("    entry 'confirm/r0' RUNNING AGE");
      expected.add("    entry 'confirm/r1' RUNNING AGE");
      for (int i = 0; i < TaskDump.ENTRIES_LISTED - 2; i++)
        expected.add("    entry 'confirm/p" + i + "' PENDING AGE");
      expected.add("    more '99982' PENDING AGE");
      expected.add("    layer 'http' OPEN AGE");
      String layers = text.substring(text.indexOf("  layer 'journal'"));
      assertEquals(String.join("\n", expected) + "\n", layers);

      String json = app.dump(false).toJson();
      assertTrue(
          json.contains(
              "{\"kind\":\"entry\",\"name\":\"confirm/r0\",\"state\":\"RUNNING\",\"ageMillis\":300,"
                  + "\"mustFinish\":false,\"cancelled\":false,\"children\":[]}"),
          json);
      assertTrue(
          json.contains(
              "{\"kind\":\"more\",\"name\":\"99982\",\"state\":\"PENDING\",\"ageMillis\":2000,"),
          json);
    } finally {
      app.requestShutdown();
      result(app);
    }
  }

  @Test
  void aSourceIgnoringTheLimitIsCutAndOneThatFailsIsLeftOutButACancellationPropagates()
      throws Exception {
    AtomicReference<Lifespan.Context> journal = new AtomicReference<>();
    App app =
        App.start(
            options("worker", progress).withClock(clock),
            Lifespan.named(
                "journal",
                ctx -> {
                  journal.set(ctx);
                  ctx.listInDumps(limit -> pendingEntries(0, 50).entries(50)); // ignores limit
                  ctx.proceed();
                }),
            null);
    assertTrue(app.awaitReady());
    try {
      String text = app.dump(false).toText();
      assertEquals(
          TaskDump.ENTRIES_LISTED, text.lines().filter(l -> l.contains("entry '")).count(), text);
      journal
          .get()
          .listInDumps(
              limit -> {
                throw new IllegalStateException("database down");
              }); // a second call replaces
      String without = app.dump(false).toText();
      assertFalse(without.contains("entry '"), without);
      assertTrue(without.contains("layer 'journal' OPEN"), without);
      journal
          .get()
          .listInDumps(
              limit -> {
                throw new CancelledException("the dumping request", "cancelled");
              });
      assertThrows(CancelledException.class, () -> app.dump(false), "a cancellation is kept");
      journal.get().listInDumps(null); // removes
      assertFalse(app.dump(false).toText().contains("entry '"));
    } finally {
      app.requestShutdown();
      result(app);
    }
  }

  @Test
  void theDumpPrintedWhenTheRunnerGivesUpLeavesTheSourcesOut() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    App app =
        App.start(
            options("hung", progress).withClock(clock), // no time passes: a third SIGINT
            Lifespan.of(
                Lifespan.named(
                    "journal",
                    ctx -> {
                      ctx.listInDumps(
                          limit -> {
                            calls.incrementAndGet(); // a real one might wait for its database
                            return List.of();
                          });
                      ctx.proceed();
                    }),
                Lifespan.named(
                    "sticky",
                    ctx -> {
                      ctx.proceed();
                      Fixtures.ignoresCancellation(started, release, null).run();
                    })),
            () -> {});
    try {
      started.await();
      app.signal(App.Signal.INT);
      app.signal(App.Signal.INT);
      App.Result r = result(app);
      assertTrue(r.gaveUp());
      String givingUp = progress.awaitLine("giving up: the application has not ended");
      assertTrue(givingUp.contains("layer 'journal' OPEN"), givingUp);
      assertEquals(0, calls.get(), "the runner's own dump called a layer's source");
    } finally {
      release.countDown();
      AppFixtures.joinRunner("hung");
    }
  }

  @Test
  void badNodesAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> TaskDump.Node.more(0, "PENDING", Duration.ZERO),
        "more than nothing");
    assertEquals(
        Duration.ZERO,
        TaskDump.Node.entry("k/1", "PENDING", Duration.ofSeconds(-3)).age(),
        "clocks apart: a negative age is zero");
  }
}
