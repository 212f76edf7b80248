package dev.lifespan.http;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link Handler} answers: a status, a body with its content type, and extra headers.
 * Immutable, but for the body array, which is sent as given (not copied, so that a large body costs
 * nothing extra): do not change it after creating the response.
 *
 * @param status the HTTP status, 100 to 599
 * @param contentType the body's media type, or null for an empty body
 * @param body the body's bytes (empty for none)
 * @param headers extra response headers
 */
public record Response(int status, String contentType, byte[] body, Map<String, String> headers) {

  /** Validates and copies. */
  public Response {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("HTTP status must be 100..599: " + status);
    }
    Objects.requireNonNull(body, "body");
    headers = Map.copyOf(headers);
    for (var h : headers.entrySet()) checkHeader(h.getKey(), h.getValue());
    if (contentType != null) checkHeader("Content-Type", contentType);
  }

  /** A header a client cannot misread: a token name, a value of visible ISO-8859-1 text. */
  private static void checkHeader(String name, String value) {
    boolean ok = !name.isEmpty();
    for (int i = 0; i < name.length() && ok; i++) {
      char c = name.charAt(i);
      ok = c > ' ' && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
    }
    if (!ok)
      throw new IllegalArgumentException("malformed header name: '" + Text.escape(name) + "'");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < ' ' && c != '\t') || c == 0x7f || c > 0xff) {
        throw new IllegalArgumentException(
            "header "
                + name
                + " has a character not allowed in a header value: '"
                + Text.escape(value, 80)
                + "'");
      }
    }
  }

  /**
   * A plain-text ({@code text/plain; charset=utf-8}) answer whose body is {@code text} as given,
   * encoded as UTF-8: no newline is appended (a handler that answers a line ends it with {@code
   * "\n"} itself). The server's own plain-text answers (errors, health) are each one line ending
   * with a newline, as is the body made from an {@link HttpException}'s message.
   */
  public static Response text(int status, String text) {
    Objects.requireNonNull(text, "text");
    return new Response(
        status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8), Map.of());
  }

  /** A JSON ({@code application/json}) answer; {@code json} is sent as it is. */
  public static Response json(int status, String json) {
    Objects.requireNonNull(json, "json");
    return new Response(
        status, "application/json", json.getBytes(StandardCharsets.UTF_8), Map.of());
  }

  /** An answer without a body. */
  public static Response empty(int status) {
    return new Response(status, null, new byte[0], Map.of());
  }

  /** A copy with the header {@code name} set to {@code value}. */
  public Response withHeader(String name, String value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put(name, value);
    return new Response(status, contentType, body, h);
  }

  /** The body as UTF-8 text. */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "Response["
        + status
        + ", "
        + (contentType == null ? "empty" : contentType)
        + ", "
        + body.length
        + " bytes]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Response r
        && r.status == status
        && Objects.equals(r.contentType, contentType)
        && java.util.Arrays.equals(r.body, body)
        && r.headers.equals(headers);
  }

  @Override
  public int hashCode() {
    return Objects.hash(status, contentType, java.util.Arrays.hashCode(body), headers);
  }
}
