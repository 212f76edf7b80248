package dev.lifespan.examples;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.lifespan.App;
import java.time.Duration;
import org.slf4j.event.KeyValuePair;

/**
 * The stamp of the demos' log lines ({@code %stamp} in their {@code logback.xml}), in the format of
 * the application runner's own progress lines: {@code [ 1.25 s] orders: } — the seconds since the
 * application started, on its clock ({@link App#uptime()}), and its name. The application is the
 * one the logging thread runs in; for a record logged outside any (a timer's thread), the last one
 * seen; before any, the seconds since logging started. The name is the one the record carries as
 * its {@code app} key ({@link Stamped}), if any.
 */
public final class StampConverter extends ClassicConverter {
  private static final long START = System.nanoTime(); // when logging starts
  private static volatile App lastSeen;

  /** Creates the converter; Logback does, for each {@code %stamp} of a pattern. */
  public StampConverter() {}

  @Override
  public String convert(ILoggingEvent event) {
    App app = App.current().orElse(null);
    if (app != null) {
      lastSeen = app;
    } else {
      app = lastSeen;
    }
    String name = keyed(event, "app");
    if (name == null) name = app != null ? app.name() : "-";
    Duration uptime = app != null ? app.uptime() : Duration.ofNanos(System.nanoTime() - START);
    return Stamped.stamp(uptime) + name + ": ";
  }

  private static String keyed(ILoggingEvent event, String key) {
    if (event.getKeyValuePairs() == null) return null;
    for (KeyValuePair kv : event.getKeyValuePairs()) {
      if (kv.key.equals(key)) return String.valueOf(kv.value);
    }
    return null;
  }
}
