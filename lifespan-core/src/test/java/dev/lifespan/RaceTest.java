package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Races repeated many times, in the manner of a jcstress test: each round lines two actions up on a
 * barrier, lets them race, and checks that every outcome observed is an allowed one and that all
 * observers agree. Short by default; {@code -Dlifespan.stress.mode=long} runs 50 times more.
 */
class RaceTest {
  private static final int ROUNDS =
      "long".equals(System.getProperty("lifespan.stress.mode")) ? 100_000 : 2_000;

  @Test
  void cancelRacingCompletionEndsOneWayAndEveryObserverAgrees() throws Exception {
    Map<Future.State, Integer> seen = new EnumMap<>(Future.State.class);
    Supervisor.run(
        Supervisor.Options.named("cancel-vs-complete"),
        sup -> {
          for (int i = 0; i < ROUNDS; i++) {
            CyclicBarrier both = new CyclicBarrier(2);
            Task<String> t =
                sup.fork(
                    "racer",
                    () -> {
                      both.await();
                      return "done"; // completes while being cancelled
                    });
            CompletableFuture<String> future = t.toCompletableFuture();
            both.await();
            t.cancel();
            Future.State state = awaitEnd(t);
            seen.merge(state, 1, Integer::sum);
            switch (state) {
              case SUCCESS -> {
                assertEquals("done", t.join());
                assertEquals("done", future.get());
              }
              case CANCELLED -> {
                assertTrue(throwsCancellation(t));
                assertTrue(future.isCancelled() || future.isCompletedExceptionally());
              }
              default -> throw new AssertionError("not an allowed outcome: " + state);
            }
          }
        });
    assertEquals(ROUNDS, seen.values().stream().mapToInt(Integer::intValue).sum(), seen.toString());
  }

  @Test
  void spawnRacingShutdownIsAlwaysAccountedFor() throws Exception {
    AtomicInteger ran = new AtomicInteger();
    int accepted = 0;
    for (int i = 0; i < ROUNDS / 10; i++) {
      Supervisor sup = Supervisor.open("spawn-vs-shutdown-" + i);
      CyclicBarrier both = new CyclicBarrier(2);
      List<Task<Void>> tasks = new ArrayList<>();
      Thread spawner =
          Thread.ofVirtual()
              .start(
                  () -> {
                    Fixtures.unchecked(both::await);
                    try {
                      tasks.add(sup.spawn("late", ran::incrementAndGet));
                    } catch (IllegalStateException refused) {
                      // refused with a clear message: allowed
                    }
                  });
      both.await();
      ShutdownReport report = sup.shutdown(Duration.ofSeconds(5));
      spawner.join();
      assertTrue(report.clean());
      for (Task<Void> t : tasks) {
        accepted++;
        assertTrue(t.isDone(), "accepted, then lost: " + t);
      }
    }
    assertTrue(ran.get() <= accepted);
  }

  private static Future.State awaitEnd(Task<?> t) {
    try {
      t.join();
    } catch (CancellationException | TaskFailedException e) {
      // the state says which
    }
    return t.state();
  }

  private static boolean throwsCancellation(Task<?> t) {
    try {
      t.join();
      return false;
    } catch (CancellationException e) {
      return !(e instanceof CancelledException);
    }
  }
}
