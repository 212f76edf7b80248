package dev.lifespan.examples;

import java.math.BigDecimal;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The little JSON the orders service needs, without a library: a parser for one flat object whose
 * values are strings, numbers, {@code true}, {@code false} or {@code null}, and {@link
 * #quote(String)} for writing strings.
 *
 * <p>The parser follows RFC 8259 for what it accepts: numbers as {@link BigDecimal} (so {@code 2},
 * {@code 2.0} and {@code 2e0} are one value, and nothing is rounded), strings with every escape
 * including surrogate pairs, {@code null} as {@link #NULL}. It refuses nested objects and arrays,
 * duplicate names, trailing commas, and anything after the object, each with a short message that
 * says where.
 */
final class Json {
  /** The value of a JSON {@code null}. */
  static final Object NULL =
      new Object() {
        @Override
        public String toString() {
          return "null";
        }
      };

  /** A body that is not one flat JSON object; the message is short and says where. */
  static final class MalformedException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    MalformedException(String message) {
      super(message);
    }
  }

  private final String text;
  private int pos;

  private Json(String text) {
    this.text = text;
  }

  /**
   * The members of the flat object {@code text}, in order: each value a {@link String}, a {@link
   * BigDecimal}, a {@link Boolean} or {@link #NULL}.
   *
   * @throws MalformedException if {@code text} is not exactly one such object
   */
  static Map<String, Object> parseFlatObject(String text) {
    Json p = new Json(text);
    p.skipWhitespace();
    if (p.pos == text.length()) throw new MalformedException("empty body, expected a JSON object");
    Map<String, Object> members = p.object();
    p.skipWhitespace();
    if (p.pos < text.length()) {
      throw new MalformedException(
          "unexpected " + p.describeNext() + " after the object, at offset " + p.pos);
    }
    return Collections.unmodifiableMap(members);
  }

  private Map<String, Object> object() {
    expect('{', "a JSON object");
    Map<String, Object> members = new LinkedHashMap<>();
    skipWhitespace();
    if (peek() == '}') {
      pos++;
      return members;
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"') throw error("expected a field name in double quotes");
      String name = string();
      skipWhitespace();
      expect(':', "':' after field name " + quote(name));
      skipWhitespace();
      Object value = value(name);
      if (members.putIfAbsent(name, value) != null) {
        throw new MalformedException("duplicate field " + quote(name));
      }
      skipWhitespace();
      int c = peek();
      if (c == ',') {
        pos++;
      } else if (c == '}') {
        pos++;
        return members;
      } else {
        throw error("expected ',' or '}' after the value of " + quote(name));
      }
    }
  }

  private Object value(String name) {
    int c = peek();
    return switch (c) {
      case '"' -> string();
      case '{', '[' ->
          throw new MalformedException(
              "field "
                  + quote(name)
                  + " holds "
                  + (c == '{' ? "an object" : "an array")
                  + "; only flat objects are accepted");
      case 't' -> literal("true", Boolean.TRUE);
      case 'f' -> literal("false", Boolean.FALSE);
      case 'n' -> literal("null", NULL);
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) yield number();
        throw error("expected a value for " + quote(name));
      }
    };
  }

  private Object literal(String word, Object value) {
    if (!text.startsWith(word, pos)) throw error("expected " + word);
    pos += word.length();
    return value;
  }

  private BigDecimal number() {
    int start = pos;
    if (peek() == '-') pos++;
    if (peek() == '0') {
      pos++;
    } else if (isDigit(peek())) {
      digits();
    } else {
      throw error("malformed number");
    }
    if (peek() == '.') {
      pos++;
      if (!isDigit(peek())) throw error("malformed number: digits expected after '.'");
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') pos++;
      if (!isDigit(peek())) throw error("malformed number: digits expected in the exponent");
      digits();
    }
    try {
      return new BigDecimal(text.substring(start, pos));
    } catch (NumberFormatException e) { // an exponent beyond the int range
      throw new MalformedException("number out of range at offset " + start);
    }
  }

  private void digits() {
    while (isDigit(peek())) pos++;
  }

  private static boolean isDigit(int c) {
    return c >= '0' && c <= '9';
  }

  private String string() {
    expect('"', "'\"'");
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (pos >= text.length()) throw error("unterminated string");
      char c = text.charAt(pos++);
      if (c == '"') return sb.toString();
      if (c < 0x20) {
        pos--;
        throw error("control character in a string (escape it)");
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (pos >= text.length()) throw error("unterminated string");
      char e = text.charAt(pos++);
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> sb.append(hex4());
        default -> {
          pos--;
          throw error("unknown escape '\\" + e + "'");
        }
      }
    }
  }

  private char hex4() {
    if (pos + 4 > text.length()) throw error("malformed \\u escape");
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int d = Character.digit(text.charAt(pos + i), 16);
      if (d < 0) throw error("malformed \\u escape");
      v = v * 16 + d;
    }
    pos += 4;
    return (char) v;
  }

  private void expect(char c, String what) {
    if (peek() != c) throw error("expected " + what);
    pos++;
  }

  private int peek() {
    return pos < text.length() ? text.charAt(pos) : -1;
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      pos++;
    }
  }

  private String describeNext() {
    int c = peek();
    if (c < 0) return "end of body";
    if (c < 0x20 || c > 0x7e) return String.format("character U+%04X", c);
    return "'" + (char) c + "'";
  }

  private MalformedException error(String what) {
    String where = pos >= text.length() ? "at the end of the body" : "at offset " + pos;
    return new MalformedException(
        what + " " + where + (pos < text.length() ? " (found " + describeNext() + ")" : ""));
  }

  /** {@code s} as a JSON string literal, with quotes; control characters escaped. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
