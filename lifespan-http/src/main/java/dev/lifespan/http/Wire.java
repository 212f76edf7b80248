package dev.lifespan.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/1.1 on one socket (RFC 9112): reads request heads and bodies under limits and deadlines, and
 * writes responses. Used by one thread at a time, the connection's. A violated limit is a {@link
 * Refused} carrying the status and one line of text; a deadline that passes is a {@link
 * SocketTimeoutException}; the connection is closed after either.
 */
final class Wire {
  /** The request is answered with {@code status} and {@code text}, and the connection closed. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;

    Refused(int status, String text) {
      super(text, null, false, false);
      this.status = status;
    }
  }

  /**
   * A request's line and headers.
   *
   * @param headers by lower-case name, values in order
   * @param length the body's length, -1 for chunked, 0 for none
   * @param close whether the connection closes after the response
   * @param http10 whether it is an HTTP/1.0 request (kept alive only if it asked so)
   */
  record Head(
      String method,
      String target,
      String path,
      String rawQuery,
      Map<String, List<String>> headers,
      long length,
      boolean expectContinue,
      boolean close,
      boolean http10) {}

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final byte[] buf = new byte[8192];
  private int pos;
  private int lim;
  private int soTimeout = -1;
  private byte[] line = new byte[256];

  Wire(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  // ---- reading

  /**
   * Waits until a byte is there to read, at most until {@code deadline} ({@code System.nanoTime}).
   *
   * @return false at the end of the stream
   */
  boolean await(long deadline) throws IOException {
    if (pos < lim) return true;
    long left = deadline - System.nanoTime();
    if (left <= 0) throw new SocketTimeoutException("deadline passed");
    int ms = (int) Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left) + 1);
    if (ms != soTimeout) {
      socket.setSoTimeout(ms);
      soTimeout = ms;
    }
    int n = in.read(buf, 0, buf.length);
    if (n <= 0) return false;
    pos = 0;
    lim = n;
    return true;
  }

  /**
   * Waits, without a timeout, until a byte is there to read.
   *
   * @return false at the end of the stream
   */
  boolean awaitUntimed() throws IOException {
    if (pos < lim) return true;
    if (soTimeout != 0) {
      socket.setSoTimeout(0);
      soTimeout = 0;
    }
    int n = in.read(buf, 0, buf.length);
    if (n <= 0) return false;
    pos = 0;
    lim = n;
    return true;
  }

  /**
   * One line without its end (CRLF, or a bare LF), as ISO-8859-1 text; null at the end of the
   * stream.
   *
   * @throws Refused {@code status} with {@code what} if the line is longer than {@code max}; 400
   *     for a bare CR or a NUL
   */
  private String line(int max, int status, String what, long deadline) throws IOException, Refused {
    int n = 0;
    while (true) {
      if (!await(deadline)) return null;
      // scan what is buffered
      int i = pos;
      while (i < lim && buf[i] != '\n') i++;
      int chunk = i - pos;
      if (n + chunk > max + 1) throw new Refused(status, what);
      if (n + chunk > line.length) line = java.util.Arrays.copyOf(line, Math.max(n + chunk, n * 2));
      System.arraycopy(buf, pos, line, n, chunk);
      n += chunk;
      if (i < lim) {
        pos = i + 1;
        if (n > 0 && line[n - 1] == '\r') n--;
        if (n > max) throw new Refused(status, what);
        for (int k = 0; k < n; k++) {
          if (line[k] == '\r' || line[k] == 0) throw new Refused(400, "malformed line");
        }
        return new String(line, 0, n, ISO_8859_1);
      }
      pos = lim;
    }
  }

  /**
   * The next request's head, its first byte already awaited; null if the client closed the
   * connection first.
   */
  Head head(HttpOptions o, long deadline) throws IOException, Refused {
    String requestLine;
    int blank = 0;
    do {
      requestLine =
          line(
              o.maxUrlBytes + 32, 414, "request target over " + o.maxUrlBytes + " bytes", deadline);
      if (requestLine == null) return null;
    } while (requestLine.isEmpty() && ++blank < 4);
    int sp1 = requestLine.indexOf(' ');
    int sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || requestLine.indexOf(' ', sp2 + 1) >= 0) {
      throw new Refused(400, "malformed request line");
    }
    String method = requestLine.substring(0, sp1);
    String target = requestLine.substring(sp1 + 1, sp2);
    String version = requestLine.substring(sp2 + 1);
    if (!isToken(method)) throw new Refused(400, "malformed method");
    if (target.length() > o.maxUrlBytes) {
      throw new Refused(414, "request target over " + o.maxUrlBytes + " bytes");
    }
    boolean http10;
    if (version.equals("HTTP/1.1")) {
      http10 = false;
    } else if (version.equals("HTTP/1.0")) {
      http10 = true;
    } else if (version.matches("HTTP/[0-9]\\.[0-9]")) {
      throw new Refused(505, "HTTP version " + version.substring(5) + " not supported");
    } else {
      throw new Refused(400, "malformed request line");
    }

    Map<String, List<String>> headers = new HashMap<>();
    int count = 0;
    int bytes = 0;
    String tooBig = "request header fields over " + o.maxHeaderBytes + " bytes";
    while (true) {
      String field = line(Math.max(0, o.maxHeaderBytes - bytes), 431, tooBig, deadline);
      if (field == null) throw new java.io.EOFException("connection closed in a request head");
      if (field.isEmpty()) break;
      bytes += field.length() + 2;
      if (bytes > o.maxHeaderBytes) throw new Refused(431, tooBig);
      if (++count > o.maxHeaderCount) {
        throw new Refused(431, "over " + o.maxHeaderCount + " request header fields");
      }
      char first = field.charAt(0);
      if (first == ' ' || first == '\t') throw new Refused(400, "obsolete line folding");
      int colon = field.indexOf(':');
      if (colon <= 0 || !isToken(field.substring(0, colon))) {
        throw new Refused(400, "malformed header field");
      }
      String value = field.substring(colon + 1).strip();
      for (int k = 0; k < value.length(); k++) {
        char c = value.charAt(k);
        if ((c < ' ' && c != '\t') || c == 0x7f) throw new Refused(400, "malformed header field");
      }
      headers
          .computeIfAbsent(
              field.substring(0, colon).toLowerCase(Locale.ROOT), k -> new ArrayList<>(1))
          .add(value);
    }

    List<String> host = headers.get("host");
    if (!http10 && (host == null || host.size() != 1)) {
      throw new Refused(400, host == null ? "no Host header" : "several Host headers");
    }
    long length = 0;
    List<String> te = headers.get("transfer-encoding");
    List<String> cl = headers.get("content-length");
    if (te != null) {
      if (cl != null) throw new Refused(400, "both Content-Length and Transfer-Encoding");
      String codings = String.join(",", te).strip();
      if (!codings.equalsIgnoreCase("chunked")) {
        throw new Refused(501, "transfer coding not supported: " + Text.escape(codings, 40));
      }
      if (http10) throw new Refused(400, "Transfer-Encoding in an HTTP/1.0 request");
      length = -1;
    } else if (cl != null) {
      length = -2;
      for (String v : cl) {
        for (String n : v.split(",", -1)) {
          long parsed = digits(n.strip());
          if (parsed < 0 || (length != -2 && parsed != length)) {
            throw new Refused(400, "malformed Content-Length");
          }
          length = parsed;
        }
      }
    }
    boolean close = http10 ? !hasToken(headers, "keep-alive") : hasToken(headers, "close");
    List<String> expect = headers.get("expect");
    boolean expectContinue = expect != null && expect.getFirst().equalsIgnoreCase("100-continue");

    String path;
    String rawQuery;
    if (plain(target)) {
      int q = target.indexOf('?');
      path = q < 0 ? target : target.substring(0, q);
      rawQuery = q < 0 ? null : target.substring(q + 1);
    } else if (!visibleAscii(target)) {
      throw new Refused(400, "malformed request target");
    } else if (target.equals("*") && method.equals("OPTIONS")) {
      path = "*";
      rawQuery = null;
    } else {
      try {
        URI uri = new URI(target);
        if (uri.getRawPath() == null || !uri.getRawPath().startsWith("/")) {
          throw new URISyntaxException(target, "not a path");
        }
        path = uri.getPath();
        rawQuery = uri.getRawQuery();
      } catch (URISyntaxException e) {
        throw new Refused(400, "malformed request target");
      }
    }
    return new Head(method, target, path, rawQuery, headers, length, expectContinue, close, http10);
  }

  /** Whether {@code target} is an origin-form target of characters that need no decoding. */
  private static boolean plain(String target) {
    if (target.isEmpty() || target.charAt(0) != '/') return false;
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c >= 128 || !PLAIN[c]) return false;
    }
    return true;
  }

  /** Characters of a target that need no decoding (RFC 3986 pchar without '%', '/' and '?'). */
  private static final boolean[] PLAIN = ascii("-._~!$&'()*+,;=:@/?");

  /** Characters of a token (RFC 9110 5.6.2). */
  private static final boolean[] TOKEN = ascii("!#$%&'*+-.^_`|~");

  /** Letters, digits and {@code others}, as a table indexed by ASCII code. */
  private static boolean[] ascii(String others) {
    boolean[] t = new boolean[128];
    for (char c = 'a'; c <= 'z'; c++) t[c] = true;
    for (char c = 'A'; c <= 'Z'; c++) t[c] = true;
    for (char c = '0'; c <= '9'; c++) t[c] = true;
    for (int i = 0; i < others.length(); i++) t[others.charAt(i)] = true;
    return t;
  }

  private static boolean visibleAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c >= 0x7f) return false;
    }
    return true;
  }

  private static boolean hasToken(Map<String, List<String>> headers, String token) {
    List<String> values = headers.get("connection");
    if (values == null) return false;
    for (String v : values) {
      for (String t : v.split(",")) if (t.strip().equalsIgnoreCase(token)) return true;
    }
    return false;
  }

  private static long digits(String s) {
    if (s.isEmpty() || s.length() > 18) return -1;
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') return -1;
      n = n * 10 + (c - '0');
    }
    return n;
  }

  private static boolean isToken(String s) {
    if (s.isEmpty()) return false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 128 || !TOKEN[c]) return false;
    }
    return true;
  }

  /**
   * The body of {@code head}, at most {@code max} bytes, received by {@code deadline}.
   *
   * @throws Refused 413 past {@code max} (nothing more is read), 400 for malformed chunks
   * @throws SocketTimeoutException past the deadline
   * @throws java.io.EOFException if the client closed the connection before the body's end
   */
  byte[] body(Head head, int max, long deadline) throws IOException, Refused {
    if (head.length() == 0) return NO_BYTES;
    String tooLarge = "request body over " + max + " bytes";
    if (head.length() > max) throw new Refused(413, tooLarge);
    if (head.expectContinue()) {
      out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(ISO_8859_1));
      out.flush();
    }
    if (head.length() > 0) {
      byte[] b = new byte[(int) head.length()];
      fill(b, 0, b.length, deadline);
      return b;
    }
    byte[] b = new byte[Math.min(max, 8192)];
    int n = 0;
    while (true) {
      String size = line(1024, 400, "malformed chunk", deadline);
      if (size == null) throw new java.io.EOFException("connection closed in a request body");
      int semi = size.indexOf(';');
      String hex = (semi < 0 ? size : size.substring(0, semi)).strip();
      long chunk;
      try {
        if (hex.isEmpty() || hex.length() > 15 || Character.digit(hex.charAt(0), 16) < 0)
          throw new NumberFormatException(); // no sign: "-5" once made the body's length negative
        chunk = Long.parseLong(hex, 16);
      } catch (NumberFormatException e) {
        throw new Refused(400, "malformed chunk size");
      }
      if (chunk == 0) break;
      if (n + chunk > max) throw new Refused(413, tooLarge);
      if (n + chunk > b.length)
        b = java.util.Arrays.copyOf(b, (int) Math.min(max, Math.max(n + chunk, 2L * b.length)));
      fill(b, n, (int) chunk, deadline);
      n += (int) chunk;
      String end = line(0, 400, "malformed chunk", deadline);
      if (end == null) throw new java.io.EOFException("connection closed in a request body");
    }
    // trailer fields, read and dropped, within the limits of header fields
    int bytes = 0;
    while (true) {
      String field = line(8192, 431, "request trailer fields over 8192 bytes", deadline);
      if (field == null) throw new java.io.EOFException("connection closed in a request body");
      if (field.isEmpty()) break;
      bytes += field.length() + 2;
      if (bytes > 8192) throw new Refused(431, "request trailer fields over 8192 bytes");
    }
    return n == b.length ? b : java.util.Arrays.copyOf(b, n);
  }

  /**
   * Closes the output and reads and drops the input, until the client closes its side, {@code
   * deadline} passes or {@code max} bytes have been dropped; then the socket can be closed without
   * resetting an answer the client has not read yet.
   */
  void linger(long deadline, int max) {
    try {
      socket.shutdownOutput();
      int dropped = lim - pos;
      pos = lim;
      while (dropped < max && await(deadline)) {
        dropped += lim - pos;
        pos = lim;
      }
    } catch (IOException e) {
      // the client is gone, or the deadline passed: close now
    }
  }

  private void fill(byte[] b, int off, int len, long deadline) throws IOException {
    while (len > 0) {
      if (!await(deadline)) throw new java.io.EOFException("connection closed in a request body");
      int k = Math.min(len, lim - pos);
      System.arraycopy(buf, pos, b, off, k);
      pos += k;
      off += k;
      len -= k;
    }
  }

  private static final byte[] NO_BYTES = new byte[0];

  // ---- writing

  /**
   * Writes {@code r}: without its body for {@code HEAD} (but with the length it would have), with
   * {@code Connection: close} if {@code close}, else {@code keep-alive} for an HTTP/1.0 client.
   * Response headers that frame the message ({@code Content-Length}, {@code Transfer-Encoding},
   * {@code Connection}) are the server's own.
   */
  void write(Response r, boolean head, boolean close, boolean keepAlive10) throws IOException {
    byte[] h = ResponseHead.encode(r, close, keepAlive10);
    int status = r.status();
    byte[] body = r.body();
    boolean withBody = !head && !ResponseHead.bodyless(status) && body.length > 0;
    if (withBody && h.length + body.length <= 16384) {
      byte[] all = java.util.Arrays.copyOf(h, h.length + body.length);
      System.arraycopy(body, 0, all, h.length, body.length);
      out.write(all);
    } else {
      out.write(h);
      if (withBody) out.write(body);
    }
    out.flush();
  }
}
