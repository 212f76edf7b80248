package dev.lifespan.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.examples.MultiInstanceDemo.Observation;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Five instances of one application in one JVM ({@link MultiInstanceDemo}): each ran and stopped
 * cleanly, each of its tasks — in its layer's supervisor, in a task group, fired and forgotten, on
 * a foreign pool through a wrapper, in its layer's teardown — saw only its own instance's {@code
 * LifespanLocal}s while all five read them at once, and a local read after its instance ended, or
 * outside any, fails naming the variable.
 */
class MultiInstanceDemoTest {

  @Test
  void instancesRunSideBySideInIsolationAndStopCleanly() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    MultiInstanceDemo.Run run =
        new MultiInstanceDemo(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run();
    String out = bytes.toString(StandardCharsets.UTF_8);

    int n = MultiInstanceDemo.INSTANCES;
    assertEquals(5, n);
    assertEquals(n, run.results().size(), out);
    int planned = MultiInstanceDemo.PLAN.values().stream().mapToInt(Integer::intValue).sum();
    assertEquals(9, planned);

    for (int id = 1; id <= n; id++) {
      String app = MultiInstanceDemo.appName(id);
      // ran and stopped cleanly
      App.Result r = run.results().get(id - 1).orElseThrow(() -> new AssertionError(out));
      assertEquals(app, r.application());
      assertEquals(App.Outcome.SUCCEEDED, r.outcome(), out);
      assertEquals(0, r.exitCode(), out);
      assertNull(r.failure(), out);
      assertFalse(r.gaveUp(), out);
      assertTrue(r.stragglers().isEmpty(), out);
      assertTrue(r.reports().stream().allMatch(rep -> rep.failed() == 0), out);

      // every planned observation was made, each saw its own instance's tenant and store
      List<Observation> own = run.of(id);
      Map<String, Integer> counted =
          own.stream()
              .collect(
                  Collectors.groupingBy(
                      Observation::where, TreeMap::new, Collectors.summingInt(o -> 1)));
      assertEquals(new TreeMap<>(MultiInstanceDemo.PLAN), counted, app + ": " + own);
      for (Observation o : own) {
        assertEquals(MultiInstanceDemo.tenantOf(id), o.tenant(), o.toString());
        assertEquals(id, o.store(), o.toString());
        assertTrue(o.isolated(), o.toString());
      }
      // its store was used by its own observations only
      assertEquals(planned, run.storeUses().get(id - 1), app + "'s store");

      // a read carried past the instance's end fails, naming the variable and the instance
      Throwable later = run.laterReads().get(id - 1);
      assertInstanceOf(IllegalStateException.class, later);
      assertTrue(later.getMessage().contains("'tenant'"), later.getMessage());
      assertTrue(later.getMessage().contains("'" + app + "' ended"), later.getMessage());

      // what the demo prints
      assertTrue(out.contains("] " + app + ": ready in "), out);
      assertTrue(out.contains("] multi: " + app + ": stopped SUCCEEDED, exit code 0"), out);
      assertTrue(
          out.contains(
              "] multi:   9 of its 9 observations saw "
                  + MultiInstanceDemo.tenantOf(id)
                  + " and store #"
                  + id),
          out);
    }
    assertEquals(n * planned, run.observations().size(), out);
    // the foreign pool's two threads served several instances, each with its own values
    assertTrue(
        run.observations().stream()
                .filter(o -> o.where().equals(MultiInstanceDemo.FOREIGN_POOL))
                .map(Observation::thread)
                .distinct()
                .count()
            < n,
        "a shared pool thread ran work of several instances: " + out);

    IllegalStateException outside =
        assertThrows(IllegalStateException.class, MultiInstanceDemo.TENANT::get);
    assertTrue(outside.getMessage().contains("'tenant'"), outside.getMessage());
  }
}
