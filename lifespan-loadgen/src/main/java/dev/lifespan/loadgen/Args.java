package dev.lifespan.loadgen;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * The demos' and the tools' {@code --key=value} command lines, read by picocli ({@link #read}), and
 * the checks of their values: each check names the argument and says what it must be in a one-line
 * {@link IllegalArgumentException} ({@code bad argument '--port=x': must be a whole number from 0
 * to 65535}).
 */
public final class Args {
  private static final Pattern DURATION =
      Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)?", Pattern.CASE_INSENSITIVE);

  private Args() {}

  /** The exit code for a bad command line. */
  public static final int BAD_ARGUMENTS = 2;

  /**
   * A demo's settings from {@code args} by {@code parse}, which returns null for {@code --help}.
   * For a bad argument prints {@code program: <the error>} to standard error and exits with {@link
   * #BAD_ARGUMENTS}; for {@code --help} prints {@code usage} and returns null.
   */
  public static <T> T parseOrExit(
      String program, String usage, String[] args, java.util.function.Function<String[], T> parse) {
    T settings;
    try {
      settings = parse.apply(args);
    } catch (IllegalArgumentException e) {
      System.err.println(program + ": " + e.getMessage());
      System.exit(BAD_ARGUMENTS);
      return null;
    }
    if (settings == null) System.out.print(usage);
    return settings;
  }

  /**
   * Reads {@code args} into {@code command}, a picocli {@link CommandLine.Command} whose {@link
   * CommandLine.Option} setters check their values with the checks below; false for {@code --help}
   * or {@code -h}, which {@code command} declares as its usage-help option. An option may be given
   * more than once (the last wins); {@code @file} arguments are not expanded.
   *
   * @throws IllegalArgumentException naming the argument and its value, if one is bad or unknown
   */
  public static boolean read(Object command, String... args) {
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
  public static String arg(String key, String value) {
    return key + "=" + value;
  }

  /**
   * True, for flag {@code key} declared with {@code arity = "0..1"}, which picocli gives an empty
   * {@code value} when it has none: {@code --quiet}, not {@code --quiet=yes}.
   */
  public static boolean flagOption(String key, String value) {
    return flag(arg(key, value), value.isEmpty() ? null : value);
  }

  /** The error for argument {@code arg} (the whole {@code --key=value}). */
  public static IllegalArgumentException bad(String arg, String why) {
    return new IllegalArgumentException("bad argument '" + arg + "': " + why);
  }

  /** {@code value}, which must not be missing or blank. */
  public static String required(String arg, String value) {
    if (value == null || value.isBlank()) throw bad(arg, "needs a value");
    return value;
  }

  /** True, for an argument that is a flag: {@code --quiet}, not {@code --quiet=yes}. */
  public static boolean flag(String arg, String value) {
    if (value != null) throw bad(arg, "takes no value");
    return true;
  }

  /** A whole number from {@code min} to {@code max}. */
  public static int number(String arg, String value, int min, int max) {
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
  public static Duration duration(String arg, String value) {
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
