package example.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.CancelScope;
import dev.lifespan.Task;
import dev.lifespan.TaskGroup;
import dev.lifespan.test.NoLeaks;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A user's test: Lifespan's structure, checked with lifespan-test's {@code @NoLeaks}. */
@NoLeaks
class ConsumerTest {
  @Test
  void aTaskGroupReturnsOnceEveryTaskHasEnded() throws Exception {
    int sum =
        TaskGroup.call(
            "sum",
            group -> {
              Task<Integer> a = group.fork("a", () -> 20);
              Task<Integer> b = group.fork("b", () -> 22);
              return a.join() + b.join();
            });
    assertEquals(42, sum);
  }

  @Test
  void aDeadlineCancelsTheBodyAndMovesOn() {
    Optional<String> result =
        CancelScope.moveOnAfter(
            Duration.ofMillis(20),
            scope -> {
              CancelScope.sleep(Duration.ofDays(1));
              return "never";
            });
    assertTrue(result.isEmpty());
  }
}
