package dev.lifespan.examples;

import dev.lifespan.App;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A demo's console, in the format of the application runner's own lines: {@code [ 1.25 s] orders:
 * order 7 taken} — the seconds since the application started (on its clock, {@link App#uptime()};
 * before the application exists, since this console was created, a moment earlier), the
 * application's name, the message. Safe from any thread.
 *
 * <p>A demo's {@code main} writes its lines to the log ({@link #log}): SLF4J, with Logback, whose
 * {@code logback.xml} stamps them the same way ({@link StampConverter}), and the library's log
 * records with them. A test that runs a demo in-process gives it a {@link PrintStream} instead.
 */
final class Stamped {
  private final PrintStream out; // null: to the log
  private final Logger log;
  private final String app;
  private final long start = System.nanoTime();
  private volatile App running; // the application, once a line was printed from one of its threads

  /** A console on {@code out} for the application called {@code app}. */
  Stamped(PrintStream out, String app) {
    this(out, null, app);
  }

  private Stamped(PrintStream out, Logger log, String app) {
    this.out = out;
    this.log = log;
    this.app = app;
  }

  /**
   * A console that writes to the log, at INFO, through the logger of {@code demo}, each line
   * carrying {@code app} as its key {@code app}.
   */
  static Stamped log(Class<?> demo, String app) {
    return new Stamped(null, LoggerFactory.getLogger(demo), app);
  }

  /** Prints {@code String.format(format, args)} as one stamped line. */
  void say(String format, Object... args) {
    String message = String.format(Locale.ROOT, format, args);
    if (out == null) {
      log.atInfo().addKeyValue("app", app).log(message);
      return;
    }
    synchronized (out) {
      out.println(line(message));
    }
  }

  /** {@code message} stamped: {@code [ 1.25 s] orders: message}. */
  String line(String message) {
    return stamp(uptime()) + app + ": " + message;
  }

  private Duration uptime() {
    App a = App.current().orElse(null);
    if (a != null) {
      running = a;
    } else {
      a = running;
    }
    return a != null ? a.uptime() : Duration.ofNanos(System.nanoTime() - start);
  }

  /**
   * {@code [ 1.25 s] }: seconds with two decimals (truncated, as the runner's), right-aligned in
   * six characters.
   */
  static String stamp(Duration d) {
    long hundredths = Math.max(0, d.toMillis() / 10);
    String s = String.format(Locale.ROOT, "%d.%02d", hundredths / 100, hundredths % 100);
    return String.format(Locale.ROOT, "[%6s s] ", s);
  }

  /** {@code d} as seconds with one decimal: {@code 1.5 s}. */
  static String seconds(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toNanos() / 1e9);
  }
}
