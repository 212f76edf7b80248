package dev.lifespan.internal;

import dev.lifespan.TaskDump;
import dev.lifespan.TaskDump.Kind;
import dev.lifespan.TaskDump.Node;
import java.time.Duration;

/** {@link TaskDump}'s text and JSON, as its {@code toText()} and {@code toJson()} describe them. */
public final class DumpFormat {
  private DumpFormat() {}

  /** {@link TaskDump#toText()}. */
  public static String text(TaskDump d) {
    StringBuilder sb = new StringBuilder();
    for (Node n : d.roots()) text(sb, n, 0);
    return sb.toString();
  }

  /** {@link TaskDump#toJson()}. */
  public static String json(TaskDump d) {
    StringBuilder sb = new StringBuilder();
    sb.append("{\"takenAt\":");
    jsonString(sb, d.takenAt().toString());
    sb.append(",\"stackTraces\":").append(d.withStackTraces()).append(",\"roots\":[");
    for (int i = 0; i < d.roots().size(); i++) {
      if (i > 0) sb.append(',');
      json(sb, d.roots().get(i), d.withStackTraces());
    }
    return sb.append("]}").toString();
  }

  private static void text(StringBuilder sb, Node n, int depth) {
    String indent = "  ".repeat(depth);
    sb.append(indent).append(n.kind().label()).append(" '");
    for (int i = 0; i < n.name().length(); i++) {
      char c = n.name().charAt(i);
      switch (c) {
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (Character.isISOControl(c)) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    sb.append("' ").append(n.state()).append(' ').append(age(n.age()));
    if (n.mustFinish()) sb.append(" must-finish");
    if (n.cancelled()) sb.append(" cancelled");
    if (n.kind() == Kind.SUPERVISOR || n.kind() == Kind.GROUP) {
      long tasks = n.children().stream().filter(c -> c.kind() == Kind.TASK).count();
      sb.append(", ").append(tasks).append(tasks == 1 ? " task" : " tasks");
    }
    sb.append('\n');
    for (StackTraceElement e : n.stackTrace())
      sb.append(indent).append("    at ").append(e).append('\n');
    for (Node c : n.children()) text(sb, c, depth + 1);
  }

  private static String age(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) return ms + " ms";
    if (ms < 100_000) return (ms / 1000) + "." + (ms % 1000 / 100) + " s";
    return (ms / 1000) + " s";
  }

  private static void json(StringBuilder sb, Node n, boolean withStackTraces) {
    sb.append("{\"kind\":\"").append(n.kind().label()).append("\",\"name\":");
    jsonString(sb, n.name());
    sb.append(",\"state\":");
    jsonString(sb, n.state());
    sb.append(",\"ageMillis\":").append(n.age().toMillis());
    sb.append(",\"mustFinish\":").append(n.mustFinish());
    sb.append(",\"cancelled\":").append(n.cancelled());
    if (withStackTraces && n.kind() == Kind.TASK) {
      sb.append(",\"stackTrace\":[");
      for (int i = 0; i < n.stackTrace().size(); i++) {
        if (i > 0) sb.append(',');
        jsonString(sb, n.stackTrace().get(i).toString());
      }
      sb.append(']');
    }
    sb.append(",\"children\":[");
    for (int i = 0; i < n.children().size(); i++) {
      if (i > 0) sb.append(',');
      json(sb, n.children().get(i), withStackTraces);
    }
    sb.append("]}");
  }

  /**
   * Appends {@code s} as a JSON string; unpaired surrogates are escaped, so the output is UTF-8.
   */
  private static void jsonString(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          boolean paired =
              Character.isHighSurrogate(c)
                  ? i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))
                  : Character.isLowSurrogate(c)
                      && i > 0
                      && Character.isHighSurrogate(s.charAt(i - 1));
          if (c < 0x20 || c == '\u2028' || c == '\u2029' || (Character.isSurrogate(c) && !paired)) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
