package dev.lifespan.http;

import java.time.Duration;
import java.util.Objects;

/**
 * How a server listens, and how it bounds its requests and its clients. Immutable; each {@code
 * with} method returns a copy.
 *
 * <table class="striped">
 *   <caption>Defaults</caption>
 *   <thead><tr><th scope="col">option</th><th scope="col">default</th><th scope="col">past it</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@link #withHost host}, {@link #withPort port}</td><td>{@code 0.0.0.0:8080}</td>
 *         <td></td></tr>
 *     <tr><td>{@link #withBacklog backlog}</td><td>0: as many as the operating system allows
 *         (Linux: {@code net.core.somaxconn})</td><td>connects wait or are refused by the
 *         system</td></tr>
 *     <tr><td>{@link #withDeadline deadline}</td><td>30 s per request, from its head's end
 *         through its body and its handler</td><td>body not yet read: 408 and the connection
 *         closed; handler running: cancelled, 503</td></tr>
 *     <tr><td>{@link #withHeaderTimeout headerTimeout}</td><td>10 s to receive a request's line
 *         and headers (from its first byte, or from the connect for the first request)</td>
 *         <td>408, connection closed</td></tr>
 *     <tr><td>{@link #withBodyTimeout bodyTimeout}</td><td>30 s to receive a request's body</td>
 *         <td>408, connection closed</td></tr>
 *     <tr><td>{@link #withIdleTimeout idleTimeout}</td><td>30 s that a kept-alive connection may
 *         wait for its next request</td><td>connection closed</td></tr>
 *     <tr><td>{@link #withMaxUrlBytes maxUrlBytes}</td><td>8 KiB request target</td><td>414,
 *         connection closed</td></tr>
 *     <tr><td>{@link #withMaxHeaderCount maxHeaderCount}</td><td>100 header fields</td><td>431,
 *         connection closed</td></tr>
 *     <tr><td>{@link #withMaxHeaderBytes maxHeaderBytes}</td><td>16 KiB of header fields, all
 *         lines together</td><td>431, connection closed</td></tr>
 *     <tr><td>{@link #withMaxBodyBytes maxBodyBytes}</td><td>1 MiB body</td><td>413, connection
 *         closed</td></tr>
 *     <tr><td>{@link #withDumpEndpoint dump endpoint}</td><td>off</td><td></td></tr>
 *   </tbody>
 * </table>
 *
 * <p>A client past a limit is answered (the status and a one-line body) and its connection closed
 * at once: nothing more of the request is read. Timeouts bound slow clients: a connection that
 * sends nothing, or a request dribbled in a byte at a time, costs one virtual thread for at most
 * the timeout.
 */
public final class HttpOptions {
  final String host;
  final int port;
  final int backlog; // 0: the system's maximum
  final int maxBodyBytes;
  final Duration deadline;
  final int dumpPort; // -1: off
  final Duration headerTimeout;
  final Duration bodyTimeout;
  final Duration idleTimeout;
  final int maxUrlBytes;
  final int maxHeaderCount;
  final int maxHeaderBytes;

  private HttpOptions(
      String host,
      int port,
      int backlog,
      int maxBodyBytes,
      Duration deadline,
      int dumpPort,
      Duration headerTimeout,
      Duration bodyTimeout,
      Duration idleTimeout,
      int maxUrlBytes,
      int maxHeaderCount,
      int maxHeaderBytes) {
    this.host = host;
    this.port = port;
    this.backlog = backlog;
    this.maxBodyBytes = maxBodyBytes;
    this.deadline = deadline;
    this.dumpPort = dumpPort;
    this.headerTimeout = headerTimeout;
    this.bodyTimeout = bodyTimeout;
    this.idleTimeout = idleTimeout;
    this.maxUrlBytes = maxUrlBytes;
    this.maxHeaderCount = maxHeaderCount;
    this.maxHeaderBytes = maxHeaderBytes;
  }

  /** The defaults (see the table above). */
  public static HttpOptions defaults() {
    return new HttpOptions(
        "0.0.0.0",
        8080,
        0,
        1 << 20,
        Duration.ofSeconds(30),
        -1,
        Duration.ofSeconds(10),
        Duration.ofSeconds(30),
        Duration.ofSeconds(30),
        8 << 10,
        100,
        16 << 10);
  }

  private HttpOptions copy(
      String host,
      int port,
      int backlog,
      int maxBodyBytes,
      Duration deadline,
      int dumpPort,
      Duration headerTimeout,
      Duration bodyTimeout,
      Duration idleTimeout) {
    return new HttpOptions(
        host,
        port,
        backlog,
        maxBodyBytes,
        deadline,
        dumpPort,
        headerTimeout,
        bodyTimeout,
        idleTimeout,
        maxUrlBytes,
        maxHeaderCount,
        maxHeaderBytes);
  }

  private HttpOptions limits(int maxUrlBytes, int maxHeaderCount, int maxHeaderBytes) {
    return new HttpOptions(
        host,
        port,
        backlog,
        maxBodyBytes,
        deadline,
        dumpPort,
        headerTimeout,
        bodyTimeout,
        idleTimeout,
        maxUrlBytes,
        maxHeaderCount,
        maxHeaderBytes);
  }

  /** A copy listening on {@code host} (a name or an address; {@code 127.0.0.1} for loopback). */
  public HttpOptions withHost(String host) {
    Objects.requireNonNull(host, "host");
    if (host.isBlank()) throw new IllegalArgumentException("host is blank");
    return copy(
        host,
        port,
        backlog,
        maxBodyBytes,
        deadline,
        dumpPort,
        headerTimeout,
        bodyTimeout,
        idleTimeout);
  }

  /** A copy listening on {@code port} (0: any free port; see {@link HttpApp#port()}). */
  public HttpOptions withPort(int port) {
    return copy(
        host,
        checkPort("port", port),
        backlog,
        maxBodyBytes,
        deadline,
        dumpPort,
        headerTimeout,
        bodyTimeout,
        idleTimeout);
  }

  /**
   * A copy with the listen backlog {@code backlog}: how many connections the operating system
   * queues before the server accepts them (0, the default: as many as the system allows; a larger
   * number than it allows is reduced to that).
   */
  public HttpOptions withBacklog(int backlog) {
    if (backlog < 0) throw new IllegalArgumentException("backlog < 0: " + backlog);
    return copy(
        host,
        port,
        backlog,
        maxBodyBytes,
        deadline,
        dumpPort,
        headerTimeout,
        bodyTimeout,
        idleTimeout);
  }

  /** A copy refusing request bodies over {@code bytes} with 413 (and closing the connection). */
  public HttpOptions withMaxBodyBytes(int bytes) {
    if (bytes < 0) throw new IllegalArgumentException("maxBodyBytes < 0: " + bytes);
    return copy(
        host, port, backlog, bytes, deadline, dumpPort, headerTimeout, bodyTimeout, idleTimeout);
  }

  /**
   * A copy whose routes without a deadline of their own get {@code deadline}: it runs from the end
   * of a request's head, so it covers reading the body as well as the handler.
   */
  public HttpOptions withDeadline(Duration deadline) {
    return copy(
        host,
        port,
        backlog,
        maxBodyBytes,
        positive("deadline", deadline),
        dumpPort,
        headerTimeout,
        bodyTimeout,
        idleTimeout);
  }

  /**
   * A copy that gives a client {@code timeout} to send a request's line and headers, counted from
   * the request's first byte (for a connection's first request, from the connect); past it the
   * client gets 408 and the connection is closed.
   */
  public HttpOptions withHeaderTimeout(Duration timeout) {
    return copy(
        host,
        port,
        backlog,
        maxBodyBytes,
        deadline,
        dumpPort,
        positive("headerTimeout", timeout),
        bodyTimeout,
        idleTimeout);
  }

  /**
   * A copy that gives a client {@code timeout} to send a request's body (and at most what is left
   * of the route's deadline); past it the client gets 408 and the connection is closed.
   */
  public HttpOptions withBodyTimeout(Duration timeout) {
    return copy(
        host,
        port,
        backlog,
        maxBodyBytes,
        deadline,
        dumpPort,
        headerTimeout,
        positive("bodyTimeout", timeout),
        idleTimeout);
  }

  /**
   * A copy that closes a kept-alive connection once it has waited {@code timeout} for its next
   * request (looked for every quarter of the timeout, at most every second, so it may wait up to
   * that much longer).
   */
  public HttpOptions withIdleTimeout(Duration timeout) {
    return copy(
        host,
        port,
        backlog,
        maxBodyBytes,
        deadline,
        dumpPort,
        headerTimeout,
        bodyTimeout,
        positive("idleTimeout", timeout));
  }

  /** A copy refusing request targets (path and query) over {@code bytes} with 414. */
  public HttpOptions withMaxUrlBytes(int bytes) {
    if (bytes < 1) throw new IllegalArgumentException("maxUrlBytes < 1: " + bytes);
    return limits(bytes, maxHeaderCount, maxHeaderBytes);
  }

  /** A copy refusing requests with over {@code count} header fields with 431. */
  public HttpOptions withMaxHeaderCount(int count) {
    if (count < 1) throw new IllegalArgumentException("maxHeaderCount < 1: " + count);
    return limits(maxUrlBytes, count, maxHeaderBytes);
  }

  /**
   * A copy refusing requests whose header fields take over {@code bytes}, all lines together (each
   * with its line end), with 431.
   */
  public HttpOptions withMaxHeaderBytes(int bytes) {
    if (bytes < 1) throw new IllegalArgumentException("maxHeaderBytes < 1: " + bytes);
    return limits(maxUrlBytes, maxHeaderCount, bytes);
  }

  /**
   * A copy serving the application's task dump on {@code 127.0.0.1:port} only (0: any free port;
   * see {@link HttpApp#dumpPort()}): {@code GET /tasks} as text, {@code GET /tasks.json} as JSON,
   * {@code ?stacks=true} with stack traces. Off by default: a dump shows task names and stacks.
   */
  public HttpOptions withDumpEndpoint(int port) {
    return copy(
        host,
        this.port,
        backlog,
        maxBodyBytes,
        deadline,
        checkPort("dump port", port),
        headerTimeout,
        bodyTimeout,
        idleTimeout);
  }

  private static int checkPort(String what, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(what + " must be 0..65535: " + port);
    }
    return port;
  }

  private static Duration positive(String what, Duration d) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive: " + d);
    }
    return d;
  }

  @Override
  public String toString() {
    return "HttpOptions["
        + host
        + ":"
        + port
        + ", backlog="
        + (backlog == 0 ? "system maximum" : backlog)
        + ", deadline="
        + deadline
        + ", headerTimeout="
        + headerTimeout
        + ", bodyTimeout="
        + bodyTimeout
        + ", idleTimeout="
        + idleTimeout
        + ", maxUrlBytes="
        + maxUrlBytes
        + ", maxHeaderCount="
        + maxHeaderCount
        + ", maxHeaderBytes="
        + maxHeaderBytes
        + ", maxBodyBytes="
        + maxBodyBytes
        + (dumpPort >= 0 ? ", dump on 127.0.0.1:" + dumpPort : "")
        + "]";
  }
}
