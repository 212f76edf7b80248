package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TaskGroupTest {
  private static final Duration FOREVER = Duration.ofDays(1);

  @Test
  void childrenRunOnVirtualThreadsNamedAfterNamedTasks() throws Exception {
    List<String> seen =
        TaskGroup.call(
            "render",
            g -> {
              Task<String> a = g.fork("user", () -> describe(Thread.currentThread()));
              Task<String> b = g.fork(() -> describe(Thread.currentThread()));
              assertEquals("user", a.name());
              assertEquals("render-1", b.name(), "generated names count unnamed tasks");
              return List.of(a.join(), b.join());
            });
    assertEquals(List.of("virtual user", "virtual "), seen, "threads of unnamed tasks are unnamed");
  }

  private static String describe(Thread t) {
    return (t.isVirtual() ? "virtual " : "platform ") + t.getName();
  }

  @Test
  void threadFactoryIsUsedForEveryChild() throws Exception {
    AtomicInteger made = new AtomicInteger();
    ThreadFactory platform = Fixtures.platform();
    ThreadFactory counting =
        r -> {
          made.incrementAndGet();
          return platform.newThread(r);
        };
    TaskGroup.run(
        "pool",
        counting,
        g -> {
          for (int i = 0; i < 3; i++) {
            g.spawn(() -> assertFalse(Thread.currentThread().isVirtual()));
          }
        });
    assertEquals(3, made.get());
  }

  @Test
  void factoryReturningNullIsAClearError() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> TaskGroup.run("g", r -> null, g -> g.spawn("job", () -> {})));
    assertEquals("ThreadFactory returned null for task 'job'", e.getMessage());
  }

  @Test
  void factoryReturningAStartedThreadIsAClearError() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Thread running = Thread.ofVirtual().start(() -> awaitQuietly(release));
    try {
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () -> TaskGroup.run("g", r -> running, g -> g.spawn("job", () -> {})));
      assertEquals(
          "ThreadFactory returned a thread that was already started, for task 'job'",
          e.getMessage());
      assertFalse(running.getUncaughtExceptionHandler() instanceof Task<?>);
    } finally {
      release.countDown();
      running.join();
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void groupWaitsForChildrenAndChildrenMaySpawnChildren() throws Exception {
    Set<String> ran = ConcurrentHashMap.newKeySet();
    TaskGroup.run(
        "tree",
        g ->
            g.spawn(
                "parent",
                () -> {
                  ran.add("parent");
                  g.spawn(
                      "child",
                      () -> {
                        ran.add("child");
                        g.spawn("grandchild", () -> ran.add("grandchild"));
                      });
                }));
    assertEquals(Set.of("parent", "child", "grandchild"), ran);
  }

  @Test
  void spawningIntoAnEndedGroupFails() throws Exception {
    AtomicReference<TaskGroup> escaped = new AtomicReference<>();
    TaskGroup.run("short", escaped::set);
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> escaped.get().spawn("late", () -> {}));
    assertEquals("TaskGroup 'short' has ended; cannot spawn task 'late'", e.getMessage());
    assertThrows(IllegalStateException.class, () -> escaped.get().fork(() -> 1));
  }

  @Test
  void firstFailureCancelsBodyAndSiblings() throws Exception {
    IOException boom = new IOException("boom");
    CountDownLatch siblingsParked = new CountDownLatch(2);
    List<Task<?>> tasks = new ArrayList<>();
    AtomicReference<String> bodySaw = new AtomicReference<>();
    TaskFailedException e =
        assertThrows(
            TaskFailedException.class,
            () ->
                TaskGroup.run(
                    "fail-fast",
                    g -> {
                      for (int i = 0; i < 2; i++) {
                        tasks.add(
                            g.spawn(
                                "sibling-" + i,
                                () -> {
                                  siblingsParked.countDown();
                                  Thread.sleep(FOREVER);
                                }));
                      }
                      siblingsParked.await();
                      tasks.add(
                          g.spawn(
                              "fetch",
                              () -> {
                                throw boom;
                              }));
                      try {
                        Thread.sleep(FOREVER);
                      } catch (InterruptedException cancelled) {
                        bodySaw.set("cancelled");
                        throw cancelled;
                      }
                    }));
    assertEquals("fetch", e.taskName());
    assertSame(boom, e.getCause());
    assertEquals("Task 'fetch' failed: java.io.IOException: boom", e.getMessage());
    assertEquals(0, e.getSuppressed().length, "cancellations are not failures");
    assertEquals("cancelled", bodySaw.get());
    assertEquals(Future.State.CANCELLED, tasks.get(0).state());
    assertEquals(Future.State.CANCELLED, tasks.get(1).state());
    assertEquals(Future.State.FAILED, tasks.get(2).state());
    assertFalse(Thread.currentThread().isInterrupted(), "no interrupt leaks out of the group");
  }

  @Test
  void manyChildrenFailingAtOnceLoseNothing() {
    int n = 10;
    CountDownLatch ready = new CountDownLatch(n);
    CountDownLatch go = new CountDownLatch(1);
    TaskFailedException e =
        assertThrows(
            TaskFailedException.class,
            () ->
                TaskGroup.run(
                    "storm",
                    g -> {
                      for (int i = 0; i < n; i++) {
                        int id = i;
                        // The shield keeps every child from being cancelled by the first failure,
                        // so all n of them really fail.
                        g.spawn(
                            "c" + id,
                            () ->
                                CancelScope.run(
                                    CancelScope.Options.DEFAULT.shielded(),
                                    s -> {
                                      ready.countDown();
                                      go.await();
                                      throw new IllegalStateException("failure " + id);
                                    }));
                      }
                      ready.await();
                      go.countDown();
                    }));
    List<Throwable> all = new ArrayList<>();
    all.add(e);
    all.addAll(Arrays.asList(e.getSuppressed()));
    assertEquals(n, all.size());
    Set<String> messages =
        all.stream().map(t -> t.getCause().getMessage()).collect(Collectors.toSet());
    assertEquals(n, messages.size(), "every failure reported once: " + messages);
    for (Throwable t : all) assertTrue(t instanceof TaskFailedException, t.toString());
  }

  @Test
  void bodyFailureComesOutAsItselfWithChildFailuresSuppressed() {
    IOException bodyFailure = new IOException("body");
    CountDownLatch parked = new CountDownLatch(1);
    IOException e =
        assertThrows(
            IOException.class,
            () ->
                TaskGroup.run(
                    "g",
                    g -> {
                      g.spawn(
                          "child",
                          () -> {
                            try {
                              parked.countDown();
                              Thread.sleep(FOREVER);
                            } catch (InterruptedException cancelled) {
                              // fails while being cancelled: a failure, after the body's
                              throw new IllegalArgumentException("child");
                            }
                          });
                      parked.await();
                      throw bodyFailure;
                    }));
    assertSame(bodyFailure, e);
    assertEquals(1, e.getSuppressed().length);
    assertEquals("child", ((TaskFailedException) e.getSuppressed()[0]).taskName());
  }

  @Test
  void fatalErrorInAChildIsThrownAsItself() {
    OutOfMemoryError oom = new OutOfMemoryError("simulated");
    OutOfMemoryError e =
        assertThrows(
            OutOfMemoryError.class,
            () ->
                TaskGroup.run(
                    g ->
                        g.spawn(
                            "hog",
                            () -> {
                              throw oom;
                            })));
    assertSame(oom, e);
  }

  @Test
  void cancelEndsTheGroupWithoutAnException() throws Exception {
    CountDownLatch parked = new CountDownLatch(3);
    List<Task<?>> tasks = new ArrayList<>();
    String result =
        TaskGroup.call(
            "cancelled",
            g -> {
              for (int i = 0; i < 3; i++) {
                tasks.add(
                    g.spawn(
                        () -> {
                          parked.countDown();
                          Thread.sleep(FOREVER);
                        }));
              }
              parked.await();
              g.cancel();
              Thread.sleep(FOREVER);
              return "unreachable";
            });
    assertNull(result);
    for (Task<?> t : tasks) assertEquals(Future.State.CANCELLED, t.state());
    assertFalse(Thread.currentThread().isInterrupted());
  }

  @Test
  void groupWhoseChildrenWereCancelledReturnsTheBodyResult() throws Exception {
    String result =
        TaskGroup.call(
            g -> {
              Task<Void> t = g.spawn(() -> Thread.sleep(FOREVER));
              t.cancel();
              return "body result";
            });
    assertEquals("body result", result);
  }

  @Test
  void cancellingAnOuterScopeReachesEveryLeafOfNestedGroups() throws Exception {
    int fanOut = 3;
    int leaves = fanOut * fanOut * fanOut;
    CountDownLatch parked = new CountDownLatch(leaves);
    AtomicInteger cancelledLeaves = new AtomicInteger();
    AtomicReference<CancelScope> outer = new AtomicReference<>();
    Thread canceller =
        Thread.ofVirtual()
            .start(
                () ->
                    Fixtures.unchecked(
                        () -> {
                          parked.await();
                          outer.get().cancel("stop everything");
                        }));
    CancelScope scope =
        CancelScope.run(
            CancelScope.Options.named("outer"),
            s -> {
              outer.set(s);
              TaskGroup.run(
                  "level-1",
                  g1 -> {
                    for (int i = 0; i < fanOut; i++) {
                      g1.spawn(
                          () ->
                              TaskGroup.run(
                                  "level-2",
                                  g2 -> {
                                    for (int j = 0; j < fanOut; j++) {
                                      g2.spawn(
                                          () ->
                                              TaskGroup.run(
                                                  "level-3",
                                                  g3 -> {
                                                    for (int k = 0; k < fanOut; k++) {
                                                      g3.spawn(
                                                          () -> {
                                                            parked.countDown();
                                                            try {
                                                              Thread.sleep(FOREVER);
                                                            } catch (InterruptedException e) {
                                                              cancelledLeaves.incrementAndGet();
                                                              throw e;
                                                            }
                                                          });
                                                    }
                                                  }));
                                    }
                                  }));
                    }
                  });
            });
    canceller.join();
    assertTrue(scope.isCancelledCaught());
    assertEquals(leaves, cancelledLeaves.get());
    assertFalse(Thread.currentThread().isInterrupted());
  }

  @Test
  void outerCancellationPropagatesOutOfTheGroup() throws Exception {
    List<String> log = new ArrayList<>();
    CancelScope outer =
        CancelScope.run(
            o -> {
              TaskGroup.run(
                  g -> {
                    g.spawn(() -> Thread.sleep(FOREVER));
                    o.cancel();
                  });
              log.add("unreachable");
            });
    assertTrue(outer.isCancelledCaught());
    assertTrue(log.isEmpty());
  }

  @Test
  void startReturnsTheReportedValueAndTheTaskKeepsRunning() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<String> after = new AtomicReference<>();
    TaskGroup.run(
        g -> {
          int port =
              g.start(
                  "server",
                  started -> {
                    started.started(8080);
                    release.await();
                    after.set("served");
                  });
          assertEquals(8080, port);
          release.countDown();
        });
    assertEquals("served", after.get());
  }

  @Test
  void failureBeforeStartedComesOutOfStartNotOutOfTheGroup() throws Exception {
    IOException bindFailed = new IOException("address in use");
    String result =
        TaskGroup.call(
            g -> {
              TaskFailedException e =
                  assertThrows(
                      TaskFailedException.class,
                      () ->
                          g.start(
                              "server",
                              started -> {
                                throw bindFailed;
                              }));
              assertSame(bindFailed, e.getCause());
              assertEquals("server", e.taskName());
              return "group still fine";
            });
    assertEquals("group still fine", result);
  }

  @Test
  void returningWithoutReportingStartedIsAnError() throws Exception {
    TaskGroup.run(
        g -> {
          IllegalStateException e =
              assertThrows(IllegalStateException.class, () -> g.start("lazy", started -> {}));
          assertEquals("Task 'lazy' returned without reporting started", e.getMessage());
        });
  }

  @Test
  void reportingStartedTwiceFailsTheTask() {
    TaskFailedException e =
        assertThrows(
            TaskFailedException.class,
            () ->
                TaskGroup.run(
                    g ->
                        g.start(
                            "eager",
                            started -> {
                              started.started("a");
                              started.started("b");
                            })));
    assertEquals("eager", e.taskName());
    assertEquals("Task 'eager' reported started twice", e.getCause().getMessage());
  }

  @Test
  void startOfAChildCancelledBeforeReportingThrowsCancellation() throws Exception {
    TaskGroup.run(
        g -> {
          java.util.concurrent.CancellationException e =
              assertThrows(
                  java.util.concurrent.CancellationException.class,
                  () ->
                      g.start(
                          "doomed",
                          started -> {
                            CancelScope.current().orElseThrow().cancel(); // the task's own scope
                            Thread.sleep(FOREVER);
                          }));
          assertFalse(e instanceof CancelledException, "not the caller's cancellation");
          assertEquals("Task 'doomed' was cancelled before it reported started", e.getMessage());
        });
  }

  @Test
  void toStringShowsNameStateAndRunningCount() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    TaskGroup.run(
        "shown",
        g -> {
          g.spawn(release::await);
          assertEquals("TaskGroup[shown, OPEN, running=1]", g.toString());
          release.countDown();
        });
  }

  /**
   * The list of running children is read without a lock while ended children are unlinked from it:
   * a cancellation walking it while thousands of siblings end (and compact the list) must still
   * reach every blocked child, or the group would never return.
   */
  @Test
  @org.junit.jupiter.api.Timeout(120)
  void cancellationReachesEveryBlockedChildWhileSiblingsEndAndTheListIsCompacted()
      throws Exception {
    for (int round = 0; round < 20; round++) {
      int blocked = 200;
      CountDownLatch parked = new CountDownLatch(blocked);
      AtomicInteger cancelled = new AtomicInteger();
      List<Task<Void>> sleepers = new ArrayList<>();
      TaskGroup.run(
          g -> {
            for (int i = 0; i < blocked; i++) {
              for (int k = 0; k < 10; k++) g.spawn(() -> {}); // they end, and compact the list
              sleepers.add(
                  g.spawn(
                      () -> {
                        parked.countDown();
                        try {
                          CancelScope.sleep(FOREVER);
                        } catch (CancelledException e) {
                          cancelled.incrementAndGet();
                          throw e;
                        }
                      }));
            }
            parked.await();
            for (int k = 0; k < 2000; k++) g.spawn(() -> {}); // ending while the walk runs
            g.scope().cancel();
          });
      assertEquals(blocked, cancelled.get(), "round " + round);
      for (Task<Void> t : sleepers) assertEquals(Future.State.CANCELLED, t.state());
    }
  }
}
