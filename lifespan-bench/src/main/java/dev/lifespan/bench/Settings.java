package dev.lifespan.bench;

import java.util.Arrays;
import java.util.List;

/** The bounded harnesses' settings, from system properties. */
public final class Settings {
  private Settings() {}

  /**
   * System property {@code name} (or {@code defaultValue}) split at {@code separator}, each item
   * stripped, empty items left out: {@code -Dvariants=bare,lifespan}, {@code -DchildArgs="-Xmx1g
   * -Xlog:gc"}.
   */
  public static List<String> list(String name, String defaultValue, String separator) {
    return Arrays.stream(System.getProperty(name, defaultValue).split(separator))
        .map(String::strip)
        .filter(s -> !s.isEmpty())
        .toList();
  }
}
