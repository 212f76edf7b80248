package dev.lifespan.http;

import java.time.Duration;
import java.util.Objects;

/**
 * How a server listens and bounds its requests. Immutable; each {@code with} method returns a copy.
 * Defaults: all interfaces ({@code 0.0.0.0}), port 8080, backlog 0 (the system's), bodies up to 1
 * MiB, a 30 s deadline per request, no task dump endpoint.
 */
public final class HttpOptions {
  final String host;
  final int port;
  final int backlog;
  final int maxBodyBytes;
  final Duration deadline;
  final int dumpPort; // -1: off

  private HttpOptions(
      String host, int port, int backlog, int maxBodyBytes, Duration deadline, int dumpPort) {
    this.host = host;
    this.port = port;
    this.backlog = backlog;
    this.maxBodyBytes = maxBodyBytes;
    this.deadline = deadline;
    this.dumpPort = dumpPort;
  }

  /** The defaults. */
  public static HttpOptions defaults() {
    return new HttpOptions("0.0.0.0", 8080, 0, 1 << 20, Duration.ofSeconds(30), -1);
  }

  /** A copy listening on {@code host} (a name or an address; {@code 127.0.0.1} for loopback). */
  public HttpOptions withHost(String host) {
    Objects.requireNonNull(host, "host");
    if (host.isBlank()) throw new IllegalArgumentException("host is blank");
    return new HttpOptions(host, port, backlog, maxBodyBytes, deadline, dumpPort);
  }

  /** A copy listening on {@code port} (0: any free port; see {@link HttpApp#port()}). */
  public HttpOptions withPort(int port) {
    return new HttpOptions(
        host, checkPort("port", port), backlog, maxBodyBytes, deadline, dumpPort);
  }

  /** A copy with the listen backlog {@code backlog} (0: the system's default). */
  public HttpOptions withBacklog(int backlog) {
    if (backlog < 0) throw new IllegalArgumentException("backlog < 0: " + backlog);
    return new HttpOptions(host, port, backlog, maxBodyBytes, deadline, dumpPort);
  }

  /** A copy refusing request bodies over {@code bytes} with 413. */
  public HttpOptions withMaxBodyBytes(int bytes) {
    if (bytes < 0) throw new IllegalArgumentException("maxBodyBytes < 0: " + bytes);
    return new HttpOptions(host, port, backlog, bytes, deadline, dumpPort);
  }

  /** A copy whose routes without a deadline of their own get {@code deadline}. */
  public HttpOptions withDeadline(Duration deadline) {
    Objects.requireNonNull(deadline, "deadline");
    if (deadline.isNegative() || deadline.isZero()) {
      throw new IllegalArgumentException("deadline must be positive: " + deadline);
    }
    return new HttpOptions(host, port, backlog, maxBodyBytes, deadline, dumpPort);
  }

  /**
   * A copy serving the application's task dump on {@code 127.0.0.1:port} only (0: any free port;
   * see {@link HttpApp#dumpPort()}): {@code GET /tasks} as text, {@code GET /tasks.json} as JSON,
   * {@code ?stacks=true} with stack traces. Off by default: a dump shows task names and stacks.
   */
  public HttpOptions withDumpEndpoint(int port) {
    return new HttpOptions(
        host, this.port, backlog, maxBodyBytes, deadline, checkPort("dump port", port));
  }

  private static int checkPort(String what, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(what + " must be 0..65535: " + port);
    }
    return port;
  }

  @Override
  public String toString() {
    return "HttpOptions["
        + host
        + ":"
        + port
        + ", maxBodyBytes="
        + maxBodyBytes
        + ", deadline="
        + deadline
        + (dumpPort >= 0 ? ", dump on 127.0.0.1:" + dumpPort : "")
        + "]";
  }
}
