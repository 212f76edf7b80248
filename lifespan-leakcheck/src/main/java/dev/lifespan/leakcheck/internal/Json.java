package dev.lifespan.leakcheck.internal;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal JSON parser (RFC 8259), enough to read the JDK's JSON thread dump without a dependency.
 *
 * <p>Values map to Java as: object to {@code Map<String, Object>} (in document order), array to
 * {@code List<Object>}, string to {@code String}, number to {@code BigDecimal}, {@code true} and
 * {@code false} to {@code Boolean}, {@code null} to {@code null}.
 */
public final class Json {
  private final String text;
  private int pos; // index of the next character to read

  private Json(String text) {
    this.text = text;
  }

  /**
   * Parses one JSON value that makes up the whole of {@code text} (surrounding whitespace allowed).
   *
   * @throws IllegalArgumentException if {@code text} is not valid JSON; the message gives the
   *     offset
   */
  public static Object parse(String text) {
    Json parser = new Json(text);
    parser.skipWhitespace();
    Object value = parser.value();
    parser.skipWhitespace();
    if (parser.pos != text.length()) {
      throw parser.error("trailing characters");
    }
    return value;
  }

  private Object value() {
    return switch (peek()) {
      case '{' -> object();
      case '[' -> array();
      case '"' -> string();
      case 't' -> literal("true", Boolean.TRUE);
      case 'f' -> literal("false", Boolean.FALSE);
      case 'n' -> literal("null", null);
      default -> number();
    };
  }

  private Map<String, Object> object() {
    expect('{');
    Map<String, Object> members = new LinkedHashMap<>();
    skipWhitespace();
    if (peek() == '}') {
      pos++;
      return members;
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"') {
        throw error("expected a member name");
      }
      String name = string();
      skipWhitespace();
      expect(':');
      skipWhitespace();
      members.put(name, value());
      skipWhitespace();
      if (peek() == '}') {
        pos++;
        return members;
      }
      expect(',');
    }
  }

  private List<Object> array() {
    expect('[');
    List<Object> elements = new ArrayList<>();
    skipWhitespace();
    if (peek() == ']') {
      pos++;
      return elements;
    }
    while (true) {
      skipWhitespace();
      elements.add(value());
      skipWhitespace();
      if (peek() == ']') {
        pos++;
        return elements;
      }
      expect(',');
    }
  }

  private String string() {
    expect('"');
    StringBuilder sb = new StringBuilder();
    while (true) {
      char c = next();
      if (c == '"') {
        return sb.toString();
      } else if (c < 0x20) {
        throw error("control character in string");
      } else if (c != '\\') {
        sb.append(c);
        continue;
      }
      char escaped = next();
      switch (escaped) {
        case '"', '\\', '/' -> sb.append(escaped);
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          if (pos + 4 > text.length()) {
            throw error("truncated \\u escape");
          }
          int code = 0;
          for (int end = pos + 4; pos < end; pos++) {
            int digit = Character.digit(text.charAt(pos), 16);
            if (digit < 0) {
              throw error("bad \\u escape");
            }
            code = code * 16 + digit;
          }
          sb.append((char) code);
        }
        default -> {
          pos--;
          throw error("bad escape '\\" + escaped + "'");
        }
      }
    }
  }

  private BigDecimal number() {
    int start = pos;
    if (pos < text.length() && text.charAt(pos) == '-') {
      pos++;
    }
    int intStart = pos;
    skipDigits();
    if (pos == intStart) {
      pos = start;
      throw error("unexpected character");
    }
    if (text.charAt(intStart) == '0' && pos - intStart > 1) {
      throw error("leading zero in number");
    }
    if (pos < text.length() && text.charAt(pos) == '.') {
      pos++;
      requireDigits();
    }
    if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
      pos++;
      if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) {
        pos++;
      }
      requireDigits();
    }
    return new BigDecimal(text.substring(start, pos));
  }

  private void requireDigits() {
    int start = pos;
    skipDigits();
    if (pos == start) {
      throw error("expected a digit");
    }
  }

  private void skipDigits() {
    while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
      pos++;
    }
  }

  private Object literal(String word, Object value) {
    if (!text.startsWith(word, pos)) {
      throw error("unexpected character");
    }
    pos += word.length();
    return value;
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("expected '" + c + "'");
    }
    pos++;
  }

  private char peek() {
    if (pos >= text.length()) {
      throw error("unexpected end of input");
    }
    return text.charAt(pos);
  }

  private char next() {
    char c = peek();
    pos++;
    return c;
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("Malformed JSON at offset " + pos + ": " + what);
  }
}
