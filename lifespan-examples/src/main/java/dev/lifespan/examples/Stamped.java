package dev.lifespan.examples;

import dev.lifespan.App;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * A demo's console, in the format of the application runner's own lines: {@code [ 1.25 s] orders:
 * order 7 taken} — the seconds since the application started (on its clock, {@link App#uptime()};
 * before the application exists, since this console was created, a moment earlier), the
 * application's name, the message. {@link #installLogFormat} prints the library's log records the
 * same way. Safe from any thread.
 */
final class Stamped {
  private final PrintStream out;
  private final String app;
  private final long start = System.nanoTime();
  private volatile App running; // the application, once a line was printed from one of its threads

  /** A console on {@code out} for the application called {@code app}. */
  Stamped(PrintStream out, String app) {
    this.out = out;
    this.app = app;
  }

  /** Prints {@code String.format(format, args)} as one stamped line. */
  void say(String format, Object... args) {
    String message = String.format(Locale.ROOT, format, args);
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

  /**
   * Prints the JDK logging's records (where {@code System.Logger}, and so the library, logs by
   * default) on standard error in this console's format, one line each, with the level and the
   * logger: {@code [ 1.25 s] orders: WARNING dev.lifespan.http: message}; a record's exception
   * follows on the next lines. Replaces the root logger's handlers; for a demo's {@code main}.
   */
  void installLogFormat() {
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) root.removeHandler(h);
    Handler console = new ConsoleHandler(); // System.err, INFO and above
    console.setFormatter(
        new Formatter() {
          @Override
          public String format(LogRecord r) {
            String line =
                line(level(r.getLevel()) + " " + r.getLoggerName() + ": " + formatMessage(r));
            if (r.getThrown() == null) return line + System.lineSeparator();
            StringWriter trace = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(trace));
            return line + System.lineSeparator() + trace;
          }
        });
    root.addHandler(console);
  }

  /** The {@code System.Logger} name of a JDK logging level. */
  private static String level(Level l) {
    int v = l.intValue();
    if (v >= Level.SEVERE.intValue()) return "ERROR";
    if (v >= Level.WARNING.intValue()) return "WARNING";
    if (v >= Level.INFO.intValue()) return "INFO";
    if (v >= Level.FINE.intValue()) return "DEBUG";
    return "TRACE";
  }
}
