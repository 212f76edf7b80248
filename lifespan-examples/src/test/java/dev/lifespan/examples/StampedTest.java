package dev.lifespan.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.Lifespan;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The demos' console: the runner's line format, and client text escaped. */
class StampedTest {
  private static final Pattern LINE = Pattern.compile("\\[ {0,3}\\d+\\.\\d\\d s\\] orders: .*");

  @Test
  void stampIsTheRunnersSecondsWithTwoDecimalsRightAlignedInSixCharacters() {
    assertEquals("[  0.00 s] ", Stamped.stamp(Duration.ZERO));
    assertEquals("[  1.25 s] ", Stamped.stamp(Duration.ofMillis(1259)));
    assertEquals("[ 12.50 s] ", Stamped.stamp(Duration.ofMillis(12_500)));
    assertEquals("[123.04 s] ", Stamped.stamp(Duration.ofMillis(123_040)));
    assertEquals("[1234.00 s] ", Stamped.stamp(Duration.ofSeconds(1234)));
  }

  @Test
  void insideTheApplicationLinesShareTheRunnersTimeOriginAndFormat() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Stamped out = new Stamped(new PrintStream(bytes, true, StandardCharsets.UTF_8), "orders");
    List<String> progress = new CopyOnWriteArrayList<>();
    out.say("before the application");
    App app =
        App.start(
            App.Options.named("orders").withProgress(progress::add),
            Lifespan.named("layer", ctx -> ctx.proceed()),
            () -> out.say("in the main body"));
    App.Result result = app.await(Duration.ofSeconds(30)).orElseThrow();
    assertEquals(App.Outcome.SUCCEEDED, result.outcome(), String.join("\n", progress));

    List<String> lines = new ArrayList<>(bytes.toString(StandardCharsets.UTF_8).lines().toList());
    assertEquals(2, lines.size(), lines.toString());
    assertTrue(LINE.matcher(lines.get(0)).matches(), lines.get(0));
    assertTrue(lines.get(0).endsWith("] orders: before the application"), lines.get(0));
    String inBody = lines.get(1);
    assertTrue(inBody.endsWith("] orders: in the main body"), inBody);
    // on the application's clock: between its 'ready' and its 'main body ended' lines
    double t = seconds(inBody);
    double ready = seconds(line(progress, "ready in"));
    double ended = seconds(line(progress, "main body ended"));
    assertTrue(ready <= t && t <= ended, ready + " <= " + t + " <= " + ended);
    for (String l : progress) assertTrue(LINE.matcher(l).matches(), l);
  }

  private static String line(List<String> lines, String part) {
    return lines.stream()
        .filter(l -> l.contains(part))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no '" + part + "' in " + lines));
  }

  private static double seconds(String line) {
    return Double.parseDouble(line.substring(1, line.indexOf(" s]")).strip());
  }
}
