package dev.lifespan.examples;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * A demo's own output: one line per call, prefixed with the seconds since the demo started ({@code
 * [ 1.25 s] order 7 taken}). Safe from any thread; the times of successive lines never go back.
 */
final class Stamped {
  private final PrintStream out;
  private final long start = System.nanoTime();

  Stamped(PrintStream out) {
    this.out = out;
  }

  /** Prints {@code String.format(format, args)} as one stamped line. */
  void say(String format, Object... args) {
    String line = String.format(Locale.ROOT, format, args);
    synchronized (out) { // the clock read inside the lock: times in the output never go back
      double s = (System.nanoTime() - start) / 1e9;
      out.println(String.format(Locale.ROOT, "[%6.2f s] %s", s, line));
    }
  }

  /** {@code d} as seconds with one decimal: {@code 1.5 s}. */
  static String seconds(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toNanos() / 1e9);
  }
}
