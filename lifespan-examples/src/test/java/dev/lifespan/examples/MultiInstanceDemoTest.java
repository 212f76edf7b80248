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

/** Five instances of one application in one JVM: each ran, stopped cleanly, and saw only itself. */
class MultiInstanceDemoTest {

  @Test
  void instancesRunSideBySideInIsolationAndStopCleanly() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    MultiInstanceDemo.Summary summary =
        new MultiInstanceDemo(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run();
    String out = bytes.toString(StandardCharsets.UTF_8);

    int n = MultiInstanceDemo.INSTANCES;
    assertEquals(5, n);
    assertEquals(n, summary.results().size(), out);
    int planned = MultiInstanceDemo.PLAN.values().stream().mapToInt(Integer::intValue).sum();
    assertEquals(9, planned);

    for (int id = 1; id <= n; id++) {
      String app = MultiInstanceDemo.appName(id);
      App.Result r = summary.results().get(id - 1).orElseThrow(() -> new AssertionError(out));
      assertEquals(app, r.application());
      assertEquals(App.Outcome.SUCCEEDED, r.outcome(), out);
      assertEquals(0, r.exitCode(), out);
      assertNull(r.failure(), out);
      assertFalse(r.gaveUp(), out);
      assertTrue(r.stragglers().isEmpty(), out);
      assertTrue(r.reports().stream().allMatch(rep -> rep.failed() == 0), out);

      int instance = id;
      List<Observation> own =
          summary.observations().stream().filter(o -> o.instance() == instance).toList();
      Map<String, Integer> counted =
          own.stream().collect(Collectors.groupingBy(Observation::where, TreeMap::new, summing()));
      assertEquals(new TreeMap<>(MultiInstanceDemo.PLAN), counted, app + ": " + own);
      for (Observation o : own) {
        assertEquals(MultiInstanceDemo.tenantOf(id), o.tenant(), o.toString());
        assertEquals(id, o.store(), o.toString());
      }
      assertEquals(planned, summary.storeUses().get(id - 1), app + "'s store");

      Throwable later = summary.laterReads().get(id - 1);
      assertInstanceOf(IllegalStateException.class, later);
      assertTrue(later.getMessage().contains("'tenant'"), later.getMessage());
      assertTrue(later.getMessage().contains("'" + app + "' ended"), later.getMessage());

      assertTrue(out.contains("] " + app + ": ready in "), out);
      assertTrue(out.contains("SUCCEEDED, exit code 0"), out);
    }
    assertEquals(n * planned, summary.observations().size(), out);
    assertTrue(summary.ok(), summary.problems() + "\n" + out);
    assertTrue(out.contains("all good: 5 instances ran and stopped cleanly"), out);

    IllegalStateException outside =
        assertThrows(IllegalStateException.class, MultiInstanceDemo.TENANT::get);
    assertTrue(outside.getMessage().contains("'tenant'"), outside.getMessage());
  }

  private static java.util.stream.Collector<Observation, ?, Integer> summing() {
    return Collectors.summingInt(o -> 1);
  }
}
