package example.consumer;

import dev.lifespan.CancelScope;
import dev.lifespan.ContextPropagator;
import dev.lifespan.Task;
import dev.lifespan.TaskGroup;
import dev.lifespan.context.MicrometerContext;
import dev.lifespan.http.HttpOptions;
import dev.lifespan.jdbc.Journal;
import dev.lifespan.spring.LifespanProperties;
import java.time.Duration;
import java.util.Optional;

/**
 * Runs a task group and a deadline, and touches one type of each other published module, then
 * prints one line: the modules the types came from and the two results.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    int sum =
        TaskGroup.call(
            "sum",
            group -> {
              Task<Integer> a = group.fork("a", () -> 20);
              Task<Integer> b = group.fork("b", () -> 22);
              return a.join() + b.join();
            });
    Optional<String> late =
        CancelScope.moveOnAfter(
            Duration.ofMillis(50),
            scope -> {
              CancelScope.sleep(Duration.ofDays(1));
              return "never";
            });
    HttpOptions http = HttpOptions.defaults();
    Journal.Options journal = Journal.Options.named("outbox");
    ContextPropagator context = MicrometerContext.propagator();
    LifespanProperties spring = new LifespanProperties().validate();
    System.out.println(
        String.join(
                " ",
                Main.class.getModule().getName(),
                TaskGroup.class.getModule().getName(),
                http.getClass().getModule().getName(),
                journal.getClass().getModule().getName(),
                MicrometerContext.class.getModule().getName(),
                spring.getClass().getModule().getName())
            + ": sum="
            + sum
            + " moved-on="
            + late.isEmpty()
            + " propagator="
            + (context != null));
  }
}
