package dev.lifespan.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The status line and header fields of a response, as bytes on the wire (RFC 9112). */
final class ResponseHead {
  private ResponseHead() {}

  /** Whether a response with {@code status} never has a body (1xx, 204, 304). */
  static boolean bodyless(int status) {
    return status == 204 || status == 304 || status < 200;
  }

  /**
   * The head of {@code r}: status line, {@code Date}, {@code Content-Type}, the response's own
   * headers but those that frame the message ({@code Content-Length}, {@code Transfer-Encoding},
   * {@code Connection}, {@code Date}: the server's), {@code Content-Length} (the body's, also for
   * {@code HEAD}), and {@code Connection: close} or, for an HTTP/1.0 client kept alive, {@code
   * keep-alive}. The response's header values are already checked (visible ISO-8859-1 text).
   */
  static byte[] encode(Response r, boolean close, boolean keepAlive10) {
    StringBuilder sb = new StringBuilder(160);
    int status = r.status();
    sb.append(statusLine(status));
    sb.append("Date: ").append(date()).append("\r\n");
    if (r.contentType() != null) sb.append("Content-Type: ").append(r.contentType()).append("\r\n");
    for (var h : r.headers().entrySet()) {
      String name = h.getKey();
      if (name.equalsIgnoreCase("Content-Length")
          || name.equalsIgnoreCase("Transfer-Encoding")
          || name.equalsIgnoreCase("Connection")
          || name.equalsIgnoreCase("Date")) {
        continue;
      }
      sb.append(name).append(": ").append(h.getValue()).append("\r\n");
    }
    if (!bodyless(status)) sb.append("Content-Length: ").append(r.body().length).append("\r\n");
    if (close) {
      sb.append("Connection: close\r\n");
    } else if (keepAlive10) {
      sb.append("Connection: keep-alive\r\n"); // an HTTP/1.0 client closes otherwise
    }
    return sb.append("\r\n").toString().getBytes(ISO_8859_1);
  }

  /** Status lines by status (100 to 599), made on first use. */
  private static final String[] STATUS_LINES = new String[600];

  private static String statusLine(int status) {
    String line = STATUS_LINES[status]; // a race makes two equal strings: harmless
    if (line == null) {
      line = "HTTP/1.1 " + status + " " + reason(status) + "\r\n";
      STATUS_LINES[status] = line;
    }
    return line;
  }

  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

  private record Stamp(long second, String text) {}

  private static volatile Stamp stamp = new Stamp(0, "");

  /** The current time as an HTTP date, formatted once a second. */
  private static String date() {
    long now = System.currentTimeMillis() / 1000;
    Stamp s = stamp;
    if (s.second != now) {
      s = new Stamp(now, HTTP_DATE.format(Instant.ofEpochSecond(now)));
      stamp = s;
    }
    return s.text;
  }

  static String reason(int status) {
    return switch (status) {
      case 100 -> "Continue";
      case 200 -> "OK";
      case 201 -> "Created";
      case 202 -> "Accepted";
      case 204 -> "No Content";
      case 301 -> "Moved Permanently";
      case 302 -> "Found";
      case 303 -> "See Other";
      case 304 -> "Not Modified";
      case 307 -> "Temporary Redirect";
      case 308 -> "Permanent Redirect";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 409 -> "Conflict";
      case 410 -> "Gone";
      case 413 -> "Content Too Large";
      case 414 -> "URI Too Long";
      case 415 -> "Unsupported Media Type";
      case 422 -> "Unprocessable Content";
      case 429 -> "Too Many Requests";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 501 -> "Not Implemented";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      case 505 -> "HTTP Version Not Supported";
      default -> "Status " + status;
    };
  }
}
