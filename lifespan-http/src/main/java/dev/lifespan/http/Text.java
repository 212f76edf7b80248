package dev.lifespan.http;

/**
 * Client-controlled text made safe for one line of a log or a response: control characters (C0,
 * DEL, C1), line and paragraph separators, Unicode format characters (bidirectional overrides,
 * zero-width characters) and unpaired surrogates are written as {@code \n}, {@code \r}, {@code \t}
 * or {@code \}{@code uXXXX}, and a backslash as two, so a client cannot end a line, forge one, or
 * send terminal escape sequences.
 */
final class Text {
  private Text() {}

  /** {@code s} escaped, and cut to {@code max} characters (with "...") if longer. */
  static String escape(String s, int max) {
    String e = escape(s);
    return e.length() <= max ? e : e.substring(0, max) + "...";
  }

  /** {@code s} escaped. */
  static String escape(String s) {
    int i = 0;
    while (i < s.length() && safe(s, i)) i++;
    if (i == s.length()) return s;
    StringBuilder sb = new StringBuilder(s.length() + 16).append(s, 0, i);
    for (; i < s.length(); i++) {
      char c = s.charAt(i);
      if (safe(s, i)) {
        sb.append(c);
      } else if (c == '\\') {
        sb.append("\\\\");
      } else if (c == '\n') {
        sb.append("\\n");
      } else if (c == '\r') {
        sb.append("\\r");
      } else if (c == '\t') {
        sb.append("\\t");
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        int cp = s.codePointAt(i);
        if (Character.getType(cp) == Character.FORMAT) {
          sb.append(String.format("\\u%04x\\u%04x", (int) c, (int) s.charAt(i + 1)));
        } else {
          sb.append(c).append(s.charAt(i + 1));
        }
        i++;
      } else {
        sb.append(String.format("\\u%04x", (int) c));
      }
    }
    return sb.toString();
  }

  private static boolean safe(String s, int i) {
    char c = s.charAt(i);
    if (c >= ' ' && c < 0x7f) return c != '\\';
    if (c < ' ' || (c >= 0x7f && c <= 0x9f)) return false;
    if (Character.isSurrogate(c)) return false; // pairs are looked at by the caller
    int type = Character.getType(c);
    return type != Character.FORMAT
        && type != Character.LINE_SEPARATOR
        && type != Character.PARAGRAPH_SEPARATOR;
  }
}
