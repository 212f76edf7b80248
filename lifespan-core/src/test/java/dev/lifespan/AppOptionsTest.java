package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lifespan.App.Outcome;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** {@link App.Options} as a record: its defaults, its checks, its exit codes, its equality. */
class AppOptionsTest {
  private final App.Options o = App.Options.named("orders");

  @Test
  void namedOptionsHaveTheDocumentedDefaults() {
    assertEquals("orders", o.name());
    assertEquals(Duration.ofSeconds(20), o.grace());
    assertEquals(Duration.ofSeconds(5), o.teardownTimeout());
    assertEquals(Duration.ofSeconds(2), o.killTimeout());
    assertEquals(Duration.ZERO, o.drainDelay());
    assertEquals(Duration.ofSeconds(1), o.progressInterval());
    assertSame(TimeSource.system(), o.clock());
    for (Outcome x : Outcome.values()) assertEquals(x.defaultExitCode(), o.exitCode(x));
    assertEquals(List.of(Outcome.values()), List.copyOf(o.exitCodes().keySet()));
  }

  @Test
  void theCanonicalConstructorRefusesWhatTheWithMethodsRefuse() {
    Duration minus = Duration.ofSeconds(-1);
    var e = assertThrows(IllegalArgumentException.class, () -> withGraceByConstructor(minus));
    assertEquals("grace < 0: PT-1S (app 'orders')", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> o.withGrace(minus));
    assertEquals("grace < 0: PT-1S (app 'orders')", e.getMessage());
    var codes = new EnumMap<>(o.exitCodes());
    codes.put(Outcome.FAILED, 256);
    e = assertThrows(IllegalArgumentException.class, () -> withExitCodesByConstructor(codes));
    assertEquals("exit code for FAILED must be 0..255: 256 (app 'orders')", e.getMessage());
    codes.remove(Outcome.FAILED);
    e = assertThrows(IllegalArgumentException.class, () -> withExitCodesByConstructor(codes));
    assertEquals(
        "no exit code for FAILED in "
            + codes
            + " (app 'orders')", // the map as given, without FAILED
        e.getMessage());
    var npe = assertThrows(NullPointerException.class, () -> withGraceByConstructor(null));
    assertEquals("grace", npe.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> byConstructor(" ", o.grace(), o.exitCodes()));
    assertEquals("App name is blank", e.getMessage());
  }

  @Test
  void exitCodesAreCopiedInAndCannotBeChangedOut() {
    Map<Outcome, Integer> codes = new EnumMap<>(o.exitCodes());
    App.Options copied = withExitCodesByConstructor(codes);
    codes.put(Outcome.TERMINATED, 0);
    assertEquals(143, copied.exitCode(Outcome.TERMINATED), "a later change to the map is not seen");
    assertThrows(
        UnsupportedOperationException.class, () -> copied.exitCodes().put(Outcome.FAILED, 0));
    App.Options changed = copied.withExitCode(Outcome.TERMINATED, 0);
    assertEquals(0, changed.exitCode(Outcome.TERMINATED));
    assertEquals(143, copied.exitCode(Outcome.TERMINATED), "withExitCode leaves the original");
  }

  @Test
  void optionsWithEqualComponentsAreEqual() {
    Consumer<String> sink = line -> {};
    App.Options a = o.withGrace(Duration.ofSeconds(30)).withProgress(sink);
    App.Options b =
        App.Options.named("orders").withProgress(sink).withGrace(Duration.ofSeconds(30));
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertEquals(
        a,
        withExitCodesByConstructor(new EnumMap<>(a.exitCodes()))
            .withProgress(sink)
            .withGrace(Duration.ofSeconds(30)));
    assertNotEquals(a, b.withExitCode(Outcome.FAILED, 70));
    assertNotEquals(a, b.withProgress(line -> {}));
    assertNotEquals(a, b.withGrace(Duration.ofSeconds(31)));
  }

  /** Options made by the canonical constructor: {@link #o} with these three components. */
  private App.Options byConstructor(String name, Duration grace, Map<Outcome, Integer> codes) {
    return new App.Options(
        name,
        grace,
        o.teardownTimeout(),
        o.killTimeout(),
        o.drainDelay(),
        o.progressInterval(),
        o.progress(),
        codes,
        o.clock(),
        o.contextPropagators(),
        o.observers());
  }

  private App.Options withGraceByConstructor(Duration grace) {
    return byConstructor(o.name(), grace, o.exitCodes());
  }

  private App.Options withExitCodesByConstructor(Map<Outcome, Integer> codes) {
    return byConstructor(o.name(), o.grace(), codes);
  }
}
