package dev.lifespan.loadgen;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * The tools' {@code --key=value} command lines, read by picocli ({@link #read}), and the checks of
 * their values: each check names the argument and says what it must be in a one-line {@link
 * IllegalArgumentException} ({@code bad argument '--port=x': must be a whole number from 1 to
 * 65535}). The same rules as the demos' command lines (lifespan-examples' {@code Args}), of which
 * this is the part the tools use.
 */
final class Args {
  private static final Pattern DURATION =
      Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)?", Pattern.CASE_INSENSITIVE);

  private Args() {}

  /** The exit code for a bad command line. */
  static final int BAD_ARGUMENTS = 2;

  /**
   * Reads {@code args} into {@code command}, a picocli {@link CommandLine.Command} whose {@link
   * CommandLine.Option} setters check their values with the checks below; false for {@code --help}
   * or {@code -h}, which {@code command} declares as its usage-help option. An option may be given
   * more than once (the last wins); {@code @file} arguments are not expanded.
   *
   * @throws IllegalArgumentException naming the argument and its value, if one is bad or unknown
   */
  static boolean read(Object command, String... args) {
    CommandLine line =
        new CommandLine(command).setOverwrittenOptionsAllowed(true).setExpandAtFiles(false);
    try {
      line.parseArgs(args);
    } catch (CommandLine.UnmatchedArgumentException e) {
      throw new IllegalArgumentException(
          "unknown argument '" + e.getUnmatched().getFirst() + "' (--help lists the arguments)", e);
    } catch (CommandLine.MissingParameterException e) {
      var missing = e.getMissing().isEmpty() ? null : e.getMissing().getFirst();
      String name =
          missing instanceof CommandLine.Model.OptionSpec option
              ? option.longestName()
              : String.valueOf(missing);
      throw new IllegalArgumentException("bad argument '" + name + "': needs a value", e);
    } catch (CommandLine.ParameterException e) {
      for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
        if (t instanceof IllegalArgumentException bad) throw bad; // a check below, from a setter
      }
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    return !line.isUsageHelpRequested();
  }

  /** The whole argument of option {@code key} given {@code value}: {@code --port=8080}. */
  static String arg(String key, String value) {
    return key + "=" + value;
  }

  /** The error for argument {@code arg} (the whole {@code --key=value}). */
  static IllegalArgumentException bad(String arg, String why) {
    return new IllegalArgumentException("bad argument '" + arg + "': " + why);
  }

  /** {@code value}, which must not be missing or blank. */
  static String required(String arg, String value) {
    if (value == null || value.isBlank()) throw bad(arg, "needs a value");
    return value;
  }

  /** A whole number from {@code min} to {@code max}. */
  static int number(String arg, String value, int min, int max) {
    try {
      int n = Integer.parseInt(required(arg, value).trim());
      if (n >= min && n <= max) return n;
    } catch (NumberFormatException e) {
      // below
    }
    throw bad(arg, "must be a whole number from " + min + " to " + max);
  }

  /**
   * A duration of at most a day, not negative: a number with an optional unit ({@code ms}, {@code
   * s}, the default, {@code m}, {@code h}), or ISO-8601 ({@code PT2S}).
   */
  static Duration duration(String arg, String value) {
    String v = required(arg, value).trim();
    if (v.regionMatches(true, 0, "PT", 0, 2)) {
      try {
        Duration d = Duration.parse(v);
        if (!d.isNegative() && d.compareTo(Duration.ofDays(1)) <= 0) return d;
      } catch (DateTimeParseException e) {
        // below
      }
    } else {
      Matcher m = DURATION.matcher(v);
      if (m.matches()) {
        double n = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
        double millis =
            switch (unit) {
              case "ms" -> n;
              case "s" -> n * 1000;
              case "m" -> n * 60_000;
              default -> n * 3_600_000;
            };
        if (millis <= 86_400_000) return Duration.ofMillis(Math.round(millis));
      }
    }
    throw bad(arg, "must be a duration of at most a day, such as 1.5s, 500ms, 2m or PT2S");
  }
}
